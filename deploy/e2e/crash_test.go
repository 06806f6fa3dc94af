package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fastResends makes the Oneflow sandbox resend a refused webhook on
// Oneflow's schedule at a hundredth of the time (1 s becomes 10 ms, the
// whole ten attempts span about a minute instead of nearly two hours).
var fastResends = []string{"-time-scale", "0.01"}

// chaosLoop kills processes at random moments (SIGKILL) and starts them
// again, one at a time, until stop is closed.
type chaosLoop struct {
	sys     *system
	targets []string
	// every is the range of pauses between kills; down the range of time a
	// killed process stays down before it is started again.
	every, down [2]time.Duration

	mu    sync.Mutex
	kills map[string]int
	errs  []error
}

func (l *chaosLoop) run(ctx context.Context, stop <-chan struct{}) *sync.WaitGroup {
	l.kills = map[string]int{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := 0; round < 1000; round++ {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(jitter(l.every[0], l.every[1])):
			}
			name := l.targets[rand.IntN(len(l.targets))]
			l.sys.kill(name)
			l.mu.Lock()
			l.kills[name]++
			l.mu.Unlock()
			time.Sleep(jitter(l.down[0], l.down[1]))
			// A restart that fails (a port still held, a cluster not
			// ready) is tried again: the loop must leave everything up.
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				sctx, cancel := context.WithTimeout(ctx, time.Minute)
				err = l.sys.restart(sctx, name)
				cancel()
				if err == nil {
					break
				}
				l.sys.kill(name)
				time.Sleep(time.Second)
			}
			if err != nil {
				l.mu.Lock()
				l.errs = append(l.errs, fmt.Errorf("restart %s: %w", name, err))
				l.mu.Unlock()
				return
			}
		}
	}()
	return &wg
}

func (l *chaosLoop) summary() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	total := 0
	for name, n := range l.kills {
		parts = append(parts, fmt.Sprintf("%s %d", name, n))
		total += n
	}
	sort.Strings(parts)
	return strings.Join(parts, ", "), total
}

// crashContracts is how many contracts the crash run plays (200 by
// default; FLEXFLOW_CRASH_CONTRACTS overrides).
func crashContracts() int { return envInt("FLEXFLOW_CRASH_CONTRACTS", 200) }

func TestCrashesOfEveryServiceAtRandomMomentsLoseNothingAndRepeatNothing(t *testing.T) {
	requireChaos(t)
	n := crashContracts()
	ctx := contextWithTimeout(t, 15*time.Minute)
	s := startSystem(t, systemOptions{ServiceEnv: shortRetries(), OneflowSandboxArgs: fastResends})
	run, stopKnob := startResendRun(ctx, t, s, n)
	run.w.wait = 4 * time.Minute

	stop := make(chan struct{})
	loop := &chaosLoop{sys: s, targets: flexflowServices,
		every: [2]time.Duration{200 * time.Millisecond, 1500 * time.Millisecond},
		down:  [2]time.Duration{0, 1500 * time.Millisecond}}
	chaos := loop.run(ctx, stop)
	began := time.Now()
	errs := run.w.run(ctx, 40)
	close(stop)
	chaos.Wait()
	lives := time.Since(began)
	if len(errs) > 0 {
		t.Errorf("%d of %d contracts did not finish their life:\n%v", len(errs), n, joinErrs(errs))
	}
	for _, err := range loop.errs {
		t.Error(err)
	}
	effects, st := run.finish(ctx, t, stopKnob)
	kills, total := loop.summary()
	if total == 0 {
		t.Error("the chaos loop killed nothing; the run proves nothing")
	}
	t.Logf("%d contracts (%s) played in %s while %d processes were killed (%s), checked after %s",
		n, run.w.lifeMix(), lives.Round(time.Second), total, kills, time.Since(began).Round(time.Second))
	t.Logf("%d notifications, %d deliveries answered 200 (%d to %d per notification), %d refused while a process was down",
		st.Notifications, st.Deliveries, st.Min, st.Max, st.Refused)
	t.Logf("side effects: %v", effects)
}

func TestNATSClusterLosingANodeMidRunLosesNothingAndRepeatsNothing(t *testing.T) {
	requireChaos(t)
	n := envInt("FLEXFLOW_CLUSTER_CONTRACTS", 200)
	ctx := contextWithTimeout(t, 12*time.Minute)
	s := startSystem(t, systemOptions{NATSCluster: true, ServiceEnv: shortRetries(), OneflowSandboxArgs: fastResends})
	run, stopKnob := startResendRun(ctx, t, s, n)
	run.w.wait = 4 * time.Minute

	// Once a third of the contracts have started, kill the node leading
	// the webhook stream, keep it down a while and bring it back; at two
	// thirds, the same for the node leading the contract-state bucket.
	type outage struct {
		after  int
		stream string
		victim string
		down   time.Duration
	}
	outages := []*outage{{after: n / 3, stream: "FLEXFLOW_WEBHOOKS"}, {after: 2 * n / 3, stream: "KV_flexflow_contracts"}}
	created := make(chan struct{}, n)
	run.w.beforeStep = func(c *contractLife, step string) {
		if step == "create" {
			created <- struct{}{}
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := 0
		for _, o := range outages {
			for seen < o.after {
				select {
				case <-created:
					seen++
				case <-ctx.Done():
					return
				}
			}
			o.victim = streamLeader(ctx, t, s, o.stream)
			s.kill(o.victim)
			t0 := time.Now()
			time.Sleep(8 * time.Second)
			if err := s.restart(ctx, o.victim); err != nil {
				t.Errorf("restart %s: %v", o.victim, err)
				return
			}
			o.down = time.Since(t0)
		}
	}()
	began := time.Now()
	errs := run.w.run(ctx, 30)
	<-done
	if len(errs) > 0 {
		t.Errorf("%d of %d contracts did not finish their life:\n%v", len(errs), n, joinErrs(errs))
	}
	effects, st := run.finish(ctx, t, stopKnob)
	for _, name := range []string{"FLEXFLOW_WEBHOOKS", "FLEXFLOW_EVENTS", "FLEXFLOW_SYNCLOG", "KV_flexflow_contracts", "KV_flexflow_callbacks"} {
		checkReplicas(ctx, t, s, name)
	}
	for _, o := range outages {
		t.Logf("%s (leader of %s) killed after %d creates, down %s", o.victim, o.stream, o.after, o.down.Round(time.Second))
	}
	t.Logf("%d contracts (%s) on a 3-node cluster with 3 replicas, checked after %s; %d sync reads answered Unavailable and asked again",
		n, run.w.lifeMix(), time.Since(began).Round(time.Second), s.syncRetries.Load())
	t.Logf("%d notifications, %d deliveries answered 200 (%d to %d per notification), %d refused",
		st.Notifications, st.Deliveries, st.Min, st.Max, st.Refused)
	t.Logf("side effects: %v", effects)
}

// streamLeader names the cluster node leading a stream.
func streamLeader(ctx context.Context, t *testing.T, s *system, stream string) string {
	t.Helper()
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream %s has no cluster leader: %+v", stream, info.Cluster)
	}
	return info.Cluster.Leader
}

// checkReplicas waits until a stream has 3 replicas, all current again.
func checkReplicas(ctx context.Context, t *testing.T, s *system, stream string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		st, err := s.js.Stream(ctx, stream)
		if err != nil {
			last = err.Error()
			continue
		}
		info, err := st.Info(ctx)
		if err != nil {
			last = err.Error()
			continue
		}
		if info.Config.Replicas != 3 {
			t.Errorf("stream %s has %d replicas, want 3", stream, info.Config.Replicas)
			return
		}
		if info.Cluster != nil && info.Cluster.Leader != "" && len(info.Cluster.Replicas) == 2 && allCurrent(info.Cluster.Replicas) {
			return
		}
		last = fmt.Sprintf("%+v", info.Cluster)
	}
	t.Errorf("stream %s: replicas not current again: %s", stream, last)
}

func allCurrent(peers []*jetstream.PeerInfo) bool {
	for _, p := range peers {
		if !p.Current || p.Offline {
			return false
		}
	}
	return true
}
