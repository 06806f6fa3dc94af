package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// resendContracts is how many contracts the resend run plays: 100 in
// `make test`, 200 in `make test-chaos`; FLEXFLOW_RESEND_CONTRACTS overrides.
func resendContracts() int {
	if chaosEnabled() {
		return envInt("FLEXFLOW_RESEND_CONTRACTS", 200)
	}
	return envInt("FLEXFLOW_RESEND_CONTRACTS", 100)
}

// shortRetries keeps the stack's waits short enough for a test: a killed
// worker's message comes back within seconds, parked work retries within a
// second or two, while the budgets stay far above anything these runs need.
func shortRetries() map[string]string {
	return map[string]string{
		"CONTRACT_SYNC_ACK_WAIT":          "5s",
		"CONTRACT_SYNC_RETRY_BASE_DELAY":  "500ms",
		"CONTRACT_SYNC_RETRY_MAX_DELAY":   "2s",
		"CONTRACT_SYNC_INLINE_BASE_DELAY": "200ms",
		"DOCUMENT_ARCHIVE_ACK_WAIT":       "6s",
		"DOCUMENT_ARCHIVE_LEASE_TTL":      "5s",
		"DOCUMENT_ARCHIVE_RETRY_INITIAL":  "300ms",
		"DOCUMENT_ARCHIVE_RETRY_MAX":      "2s",
	}
}

// duplicateKnob keeps changing the Oneflow sandbox's duplicate-delivery
// knob between lo and hi copies until ctx ends, so each notification is sent
// a different number of times at once.
func duplicateKnob(ctx context.Context, s *system, lo, hi int) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := lo; ctx.Err() == nil; n = lo + (n-lo+1)%(hi-lo+1) {
			_ = s.oneflow(ctx, http.MethodPost, "/_sandbox/webhooks/config", map[string]int{"duplicates": n}, nil)
			select {
			case <-ctx.Done():
			case <-time.After(jitter(30*time.Millisecond, 120*time.Millisecond)):
			}
		}
	}()
	return &wg
}

// resendRun is one run of the workload with every webhook delivered 3 to 10
// times: the sandbox sends 2 or 3 copies at once, the fan-out 0 to 6 more at
// random later moments, and at the end every notification once more in
// random order.
type resendRun struct {
	sys    *system
	fanout *webhookFanout
	w      *workload
}

func startResendRun(ctx context.Context, t *testing.T, s *system, contracts int) (*resendRun, context.CancelFunc) {
	t.Helper()
	f := startWebhookFanout(t, s.gatewayURL+"/v1/webhooks/oneflow", 0, 6, 3*time.Second)
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/webhooks/config", map[string]any{"url": f.url, "duplicates": 2}, nil))
	knobCtx, stopKnob := context.WithCancel(ctx)
	knob := duplicateKnob(knobCtx, s, 2, 3)
	stop := func() {
		stopKnob()
		knob.Wait()
	}
	return &resendRun{sys: s, fanout: f, w: newWorkload(ctx, t, s, contracts)}, stop
}

// finish waits for every scheduled copy, resends everything once more out
// of order, waits for the system to go idle and checks every contract.
func (r *resendRun) finish(ctx context.Context, t *testing.T, stopKnob context.CancelFunc) (sideEffects, deliveryStats) {
	t.Helper()
	r.w.explain(ctx, t)
	if err := r.fanout.wait(ctx); err != nil {
		t.Fatalf("scheduled resends: %v", err)
	}
	stopKnob()
	r.fanout.resendAll(ctx)
	if err := r.sys.oneflow(ctx, http.MethodPost, "/_sandbox/webhooks/wait", nil, nil); err != nil {
		t.Errorf("Oneflow sandbox deliveries: %v", err)
	}
	if err := r.sys.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	effects := r.w.verify(ctx, t)
	return effects, r.fanout.stats()
}

func TestResendsOfEveryWebhookThreeToTenTimesCauseEachSideEffectOnce(t *testing.T) {
	t.Parallel()
	n := resendContracts()
	ctx := contextWithTimeout(t, 15*time.Minute)
	s := startSystem(t, systemOptions{ServiceEnv: shortRetries()})
	run, stopKnob := startResendRun(ctx, t, s, n)
	began := time.Now()
	if errs := run.w.run(ctx, 40); len(errs) > 0 {
		t.Errorf("%d of %d contracts did not finish their life:\n%v", len(errs), n, joinErrs(errs))
	}
	lives := time.Since(began)
	effects, st := run.finish(ctx, t, stopKnob)

	if st.Min < 3 {
		t.Errorf("some notification reached the gateway only %d times; the run promises 3 to 10", st.Min)
	}
	if st.Max > 10+3 {
		// The sandbox resends a copy that timed out; a few more are Oneflow's
		// behaviour, not the run's.
		t.Errorf("some notification reached the gateway %d times", st.Max)
	}
	t.Logf("%d contracts (%s) played in %s, checked after %s", n, run.w.lifeMix(), lives.Round(time.Second), time.Since(began).Round(time.Second))
	t.Logf("%d notifications (%v), %d deliveries answered 200 (%d to %d per notification), %d refused",
		st.Notifications, st.ByEventType, st.Deliveries, st.Min, st.Max, st.Refused)
	t.Logf("side effects: %v", effects)
}
