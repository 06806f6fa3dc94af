package flexhrm

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// A discrete-event model of the month-end burst: contracts flow through a
// directory-like process (11 calls each, 16 at a time) and then an
// archive-like one (4 calls each, 4 at a time), each process with its own
// pacer, sharing one token bucket like Flex HRM's (and the sandbox's) rate
// limit. Virtual time makes it deterministic and fast, so the pacer can be
// judged over tens of thousands of requests; it is how the tuning in
// defaultPacingTuning was chosen.

type simEvent struct {
	at  time.Time
	seq int
	fn  func()
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	return q[i].at.Before(q[j].at) || (q[i].at.Equal(q[j].at) && q[i].seq < q[j].seq)
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	now time.Time
	q   simQueue
	seq int
	rnd *rand.Rand
}

func (s *sim) at(t time.Time, fn func()) {
	if t.Before(s.now) {
		t = s.now
	}
	s.seq++
	heap.Push(&s.q, simEvent{at: t, seq: s.seq, fn: fn})
}

func (s *sim) run() {
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(simEvent)
		s.now = e.at
		e.fn()
	}
}

// simClock is virtual time for the pacer.
type simClock struct{ s *sim }

func (c simClock) Now() time.Time                      { return c.s.now }
func (c simClock) AfterFunc(d time.Duration, f func()) { c.s.at(c.s.now.Add(d), f) }

// simBucket is the server's limit: refused requests take no token.
type simBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *simBucket) take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

type simAnswer struct {
	key    string
	status int
}

type simStep struct {
	name  string
	write bool
}

type simProcess struct {
	name    string
	pacer   *pacer // nil: no pacing
	workers int
	steps   []simStep
	// writeRetry is how long the caller waits before retrying a refused
	// write (contract-sync about 1 s in line, document-archive 5 s).
	writeRetry time.Duration
}

type simResult struct {
	finished, answered, refused int
	// refusedAgain counts refusals of a request whose previous try was
	// refused too.
	refusedAgain int
	// ratio is the time to the last contract over answered ÷ rate.
	ratio float64
}

type simOptions struct {
	contracts int
	rate      float64
	burst     float64
	seed      uint64
	paced     bool
	// tune adjusts each pacer (nil: the defaults).
	tune func(*pacingTuning)
	// linked tells each process's pacer of the other's refusals, 2 ms
	// later (a NATS message on loopback takes far less).
	linked bool
}

// simulateBurst runs every contract through both processes at once.
func simulateBurst(o simOptions) simResult {
	s := &sim{now: time.Date(2026, 1, 31, 16, 0, 0, 0, time.UTC), rnd: rand.New(rand.NewPCG(o.seed, 1))}
	bucket := &simBucket{rate: o.rate, burst: o.burst}
	var answers []simAnswer
	newPacerFor := func() *pacer {
		if !o.paced {
			return nil
		}
		p := newPacer(simClock{s}, nil)
		if o.tune != nil {
			o.tune(&p.tune)
		}
		return p
	}
	reads := func(names ...string) []simStep {
		out := make([]simStep, len(names))
		for i, n := range names {
			out[i] = simStep{name: n}
		}
		return out
	}
	dir := &simProcess{name: "directory", pacer: newPacerFor(), workers: 16, writeRetry: time.Second,
		steps: append(append(reads("find", "get", "find-again", "get-again"), simStep{"put", true}),
			append(reads("find-for-period", "periods", "get-manager", "periods-again", "periods-check"), simStep{"post-period", true})...)}
	arc := &simProcess{name: "archive", pacer: newPacerFor(), workers: 4, writeRetry: 5 * time.Second,
		steps: append(reads("employee", "categories", "documents"), simStep{"upload", true})}

	peers := map[*simProcess]*simProcess{dir: arc, arc: dir}

	// call sends one logical request until it is answered other than 429;
	// a refused read comes back after Retry-After and up to 20 %, a
	// refused write after its caller's wait.
	call := func(p *simProcess, key string, write bool, done func()) {
		k := requestKey("GET", key, nil)
		var try func()
		try = func() {
			send := func() {
				sent := s.now
				s.at(sent.Add(time.Millisecond), func() {
					ok := bucket.take(s.now)
					s.at(s.now.Add(time.Millisecond), func() {
						status := http.StatusOK
						if !ok {
							status = http.StatusTooManyRequests
						}
						answers = append(answers, simAnswer{key: key, status: status})
						if p.pacer != nil {
							p.pacer.observe(k, sent, status, time.Second)
							if !ok && o.linked {
								peer := peers[p]
								s.at(s.now.Add(2*time.Millisecond), func() { peer.pacer.peerRefused(time.Second) })
							}
						}
						if ok {
							done()
							return
						}
						wait := time.Second + time.Duration(s.rnd.Float64()*float64(time.Second)/5)
						if write {
							wait = p.writeRetry + time.Duration(s.rnd.Float64()*float64(p.writeRetry)/2)
						}
						s.at(s.now.Add(wait), try)
					})
				})
			}
			if p.pacer == nil {
				send()
				return
			}
			p.pacer.enqueue(k, send)
		}
		try()
	}
	runSteps := func(p *simProcess, contract int, then func()) {
		var step func(i int)
		step = func(i int) {
			if i == len(p.steps) {
				then()
				return
			}
			st := p.steps[i]
			call(p, fmt.Sprintf("%s/%d/%s", p.name, contract, st.name), st.write, func() { step(i + 1) })
		}
		step(0)
	}

	start := s.now
	var end time.Time
	finished, next, idleArchivers := 0, 0, 0
	var archiveQueue []int
	var runArchive, runDirectory func()
	runArchive = func() {
		if len(archiveQueue) == 0 {
			idleArchivers++
			return
		}
		c := archiveQueue[0]
		archiveQueue = archiveQueue[1:]
		runSteps(arc, c, func() {
			finished++
			end = s.now
			runArchive()
		})
	}
	runDirectory = func() {
		if next == o.contracts {
			return
		}
		c := next
		next++
		runSteps(dir, c, func() {
			archiveQueue = append(archiveQueue, c)
			if idleArchivers > 0 {
				idleArchivers--
				runArchive()
			}
			runDirectory()
		})
	}
	for range dir.workers {
		runDirectory()
	}
	for range arc.workers {
		runArchive()
	}
	s.run()

	res := simResult{finished: finished}
	last := map[string]int{}
	for _, a := range answers {
		if a.status == http.StatusTooManyRequests {
			res.refused++
			if last[a.key] == http.StatusTooManyRequests {
				res.refusedAgain++
			}
		} else {
			res.answered++
		}
		last[a.key] = a.status
	}
	res.ratio = end.Sub(start).Seconds() / (float64(res.answered) / o.rate)
	return res
}

func TestSimulatedMonthEndBurstTwoPacedProcessesShareTheLimit(t *testing.T) {
	// maxRatio guards against regressions, well above what the tuning
	// gives; the time is virtual, so the bound is a property of the
	// algorithm, not of the machine.
	tests := []struct {
		name     string
		burst    float64
		maxRatio float64
	}{
		{"bucket_of_two", 2, 1.4},
		{"bucket_of_five", 5, 1.25},
		{"bucket_of_twenty", 20, 1.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				paced := simulateBurst(simOptions{contracts: 400, rate: 20, burst: tt.burst, seed: seed, paced: true})
				unpaced := simulateBurst(simOptions{contracts: 400, rate: 20, burst: tt.burst, seed: seed})
				t.Logf("seed %d: paced ratio %.3f, %d answered, %d refused, %d refused again; unpaced ratio %.3f, %d refused, %d refused again",
					seed, paced.ratio, paced.answered, paced.refused, paced.refusedAgain, unpaced.ratio, unpaced.refused, unpaced.refusedAgain)
				if paced.finished != 400 || unpaced.finished != 400 {
					t.Fatalf("finished %d paced, %d unpaced, want 400", paced.finished, unpaced.finished)
				}
				if paced.ratio > tt.maxRatio {
					t.Errorf("paced burst took %.2f × the ideal time", paced.ratio)
				}
				if paced.refused*10 > unpaced.refused || paced.refusedAgain*20 > unpaced.refusedAgain+20 {
					t.Errorf("pacing should refuse far less: %d (%d again) paced, %d (%d again) unpaced",
						paced.refused, paced.refusedAgain, unpaced.refused, unpaced.refusedAgain)
				}
				if paced.refusedAgain*20 > paced.refused {
					t.Errorf("%d of %d refusals refused a retry again", paced.refusedAgain, paced.refused)
				}
			}
		})
	}
}

// TestSimulatedLinkedProcessesRarelyRefuseARetryAgain compares two paced
// processes on their own with the same two linked as PacingPolicy.Peers
// links them: a refused request's retry then finds the limit saved up. Over
// 10 bursts of 1,000 contracts per bucket size the linked pair is refused a
// retry far less often, and finishes no later (virtual time: deterministic).
func TestSimulatedLinkedProcessesRarelyRefuseARetryAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("10 simulated bursts per case")
	}
	for _, burst := range []float64{2, 5} {
		t.Run(fmt.Sprintf("bucket_of_%v", burst), func(t *testing.T) {
			var alone, linked simResult
			for seed := uint64(1); seed <= 10; seed++ {
				for _, run := range []struct {
					linked bool
					sum    *simResult
				}{{false, &alone}, {true, &linked}} {
					r := simulateBurst(simOptions{contracts: 1000, rate: 20, burst: burst, seed: seed, paced: true, linked: run.linked})
					if r.finished != 1000 {
						t.Fatalf("seed %d: finished %d, want 1000", seed, r.finished)
					}
					run.sum.refused += r.refused
					run.sum.refusedAgain += r.refusedAgain
					run.sum.ratio += r.ratio / 10
				}
			}
			t.Logf("alone: ratio %.3f, %d refused, %d refused again; linked: ratio %.3f, %d refused, %d refused again",
				alone.ratio, alone.refused, alone.refusedAgain, linked.ratio, linked.refused, linked.refusedAgain)
			if linked.refusedAgain*4 > alone.refusedAgain {
				t.Errorf("linked: %d retries refused again, alone %d: want at most a quarter", linked.refusedAgain, alone.refusedAgain)
			}
			if linked.ratio > alone.ratio*1.05 {
				t.Errorf("linked took %.3f × the ideal time, alone %.3f", linked.ratio, alone.ratio)
			}
		})
	}
}
