package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
)

// flexOutage makes every Flex HRM API call fail with one of statuses
// (ratio 1), or ends the outage (no statuses).
func flexOutage(ctx context.Context, s *system, statuses ...int) error {
	ratio := 1.0
	if len(statuses) == 0 {
		ratio = 0
	}
	return s.flex(ctx, http.MethodPost, "/_sandbox/fail-rate", map[string]any{"ratio": ratio, "statuses": statuses}, nil)
}

// waitParked waits until contract-sync says it is retrying the contract.
func (w *workload) waitParked(ctx context.Context, c *contractLife, what string) error {
	return w.waitSync(ctx, c, what+" parked for a retry", func(r *contractsyncv1.GetContractSyncResponse) bool {
		return strings.HasPrefix(r.GetSync().GetLastFailure(), "retrying:")
	})
}

// TestAContractParkedTwiceWithinTheHourIsRetriedBothTimes: Flex HRM is
// down while a contract's fetch runs (the work is parked and retried), and
// down again when it is signed (parked a second time, again as retry 1).
// The second parking must be retried like the first: a retry queued under
// the first one's message id would be dropped by JetStream's duplicate
// window and strand the contract for an hour.
func TestAContractParkedTwiceWithinTheHourIsRetriedBothTimes(t *testing.T) {
	t.Parallel()
	ctx := contextWithTimeout(t, 4*time.Minute)
	env := shortRetries()
	env["FLEXHRM_RETRY_BUDGET"] = "300ms"
	s := startSystem(t, systemOptions{ServiceEnv: env})
	w := newWorkload(ctx, t, s, 1)
	w.wait = 90 * time.Second
	c := w.contracts[0]

	s.must(flexOutage(ctx, s, 503))
	if err := w.create(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := w.waitParked(ctx, c, "fetch"); err != nil {
		t.Fatal(err)
	}
	s.must(flexOutage(ctx, s))
	if err := w.fill(ctx, c); err != nil {
		t.Fatalf("after the first outage: %v", err)
	}
	for _, step := range []func(context.Context, *contractLife) error{w.changeDraft, w.publish} {
		if err := step(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	s.must(flexOutage(ctx, s, 503))
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa64(c.id)+"/sign", nil, nil))
	if err := w.waitParked(ctx, c, "sign"); err != nil {
		t.Fatal(err)
	}
	s.must(flexOutage(ctx, s))
	if err := w.waitSigned(ctx, c); err != nil {
		t.Fatalf("after the second outage: %v", err)
	}
	if err := s.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("side effects: %v", w.verify(ctx, t))
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestASignatureResetDuringAnOneflowOutageStillArchivesTheNewPendingVersion:
// the reset's own work (asking for the new generation's Pending PDF) fails
// while Oneflow is down and is parked; its retry must still do it, not skip
// the reset as an event already seen.
func TestASignatureResetDuringAnOneflowOutageStillArchivesTheNewPendingVersion(t *testing.T) {
	t.Parallel()
	ctx := contextWithTimeout(t, 4*time.Minute)
	env := shortRetries()
	env["ONEFLOW_RETRY_MAX_ELAPSED"] = "300ms"
	env["CONTRACT_SYNC_INLINE_ATTEMPTS"] = "2"
	s := startSystem(t, systemOptions{ServiceEnv: env, OneflowProxy: true})
	w := newWorkload(ctx, t, s, 1)
	w.wait = 90 * time.Second
	c := w.contracts[0]
	c.life = lifeSignatureReset
	for _, step := range []func(context.Context, *contractLife) error{w.create, w.fill, w.changeDraft, w.publish} {
		if err := step(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}

	s.proxy.SetFailures(1, 503)
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa64(c.id)+"/reset-signatures", nil, nil))
	if err := w.waitParked(ctx, c, "signature reset"); err != nil {
		t.Fatal(err)
	}
	s.proxy.SetFailures(0)
	if err := w.waitDocuments(ctx, c, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING, 2); err != nil {
		w.explainOne(ctx, t, c)
		t.Fatalf("after the outage: %v", err)
	}
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa64(c.id)+"/sign", nil, nil))
	if err := w.waitSigned(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("side effects: %v", w.verify(ctx, t))
}
