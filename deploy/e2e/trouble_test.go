package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/deploy/internal/ctl"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
)

// troubleContracts is how many contracts each upstream-trouble run plays.
func troubleContracts() int { return envInt("FLEXFLOW_TROUBLE_CONTRACTS", 20) }

// troubleFor is how long each upstream trouble lasts.
const troubleFor = 30 * time.Second

func TestUpstreamTroubleIsRetriedAndEverythingCompletesOnceItStops(t *testing.T) {
	requireChaos(t)
	n := troubleContracts()
	tests := []struct {
		name      string
		contracts int
		proxy     bool
		// trouble starts the trouble and returns what ends it.
		trouble func(ctx context.Context, t *testing.T, s *system) (stop func())
	}{
		{
			name: "flex_hrm_failing_30_percent_of_calls_with_500_502_503", contracts: n,
			trouble: func(ctx context.Context, t *testing.T, s *system) func() {
				s.must(s.flex(ctx, http.MethodPost, "/_sandbox/fail-rate", map[string]any{"ratio": 0.3, "statuses": []int{500, 502, 503}}, nil))
				return func() { s.must(flexOutage(ctx, s)) }
			},
		},
		{
			name: "oneflow_failing_30_percent_of_calls_with_500_502_503", contracts: n, proxy: true,
			trouble: func(ctx context.Context, t *testing.T, s *system) func() {
				s.proxy.SetFailures(0.3, 500, 502, 503)
				return func() { s.proxy.SetFailures(0) }
			},
		},
		{
			name: "oneflow_losing_30_percent_of_write_answers_after_doing_the_write", contracts: n, proxy: true,
			trouble: func(ctx context.Context, t *testing.T, s *system) func() {
				s.proxy.LoseAnswers(0.3)
				return func() { s.proxy.LoseAnswers(0) }
			},
		},
		{
			// Oneflow's own limit shape (a fixed window), far tighter: every
			// window ends in a burst of 429 without Retry-After, which the
			// client waits out for tens of seconds.
			name: "oneflow_answering_429_at_the_end_of_every_window", contracts: max(n/2, 4),
			trouble: func(ctx context.Context, t *testing.T, s *system) func() {
				s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/rate-limit", map[string]int{"requests": 20, "per_ms": 3000}, nil))
				return func() { s.must(s.oneflow(ctx, http.MethodDelete, "/_sandbox/rate-limit", nil, nil)) }
			},
		},
		{
			name: "flex_hrm_answering_429_with_retry_after_beyond_3_calls_a_second", contracts: n,
			trouble: func(ctx context.Context, t *testing.T, s *system) func() {
				s.must(s.flex(ctx, http.MethodPost, "/_sandbox/rate-limit", map[string]any{"requestsPerSecond": 3, "burst": 3, "retryAfterSeconds": 1}, nil))
				return func() {
					s.must(s.flex(ctx, http.MethodPost, "/_sandbox/rate-limit", map[string]any{"requestsPerSecond": 0}, nil))
				}
			},
		},
		{
			name: "both_vendors_adding_2_seconds_to_every_call", contracts: max(n/4, 4),
			trouble: func(ctx context.Context, t *testing.T, s *system) func() {
				s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/latency", map[string]any{"path_prefix": "", "ms": 2000}, nil))
				s.must(s.flex(ctx, http.MethodPost, "/_sandbox/latency", map[string]any{"milliseconds": 2000}, nil))
				return func() {
					s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/latency", map[string]any{"path_prefix": "", "ms": 0}, nil))
					s.must(s.flex(ctx, http.MethodPost, "/_sandbox/latency", map[string]any{"milliseconds": 0}, nil))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := contextWithTimeout(t, 8*time.Minute)
			s := startSystem(t, systemOptions{ServiceEnv: shortRetries(), OneflowProxy: tt.proxy, OneflowSandboxArgs: fastResends})
			w := newWorkload(ctx, t, s, tt.contracts)
			w.wait = 4 * time.Minute
			// The trouble lasts troubleFor (or the whole run, if shorter);
			// every contract must then complete.
			var once sync.Once
			stopTrouble := tt.trouble(ctx, t, s)
			stop := func() { once.Do(stopTrouble) }
			ended := time.AfterFunc(troubleFor, stop)
			began := time.Now()
			errs := w.run(ctx, 20)
			ended.Stop()
			stop()
			if len(errs) > 0 {
				w.explain(ctx, t)
				t.Errorf("%d of %d contracts did not finish their life:\n%v", len(errs), tt.contracts, joinErrs(errs))
			}
			if err := s.waitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			effects := w.verify(ctx, t)
			refused := 0
			for _, r := range s.flexRequests(ctx) {
				if r.Injected != "" {
					refused++
				}
			}
			for _, r := range s.oneflowRequests(ctx) {
				if r.Status == http.StatusTooManyRequests {
					refused++
				}
			}
			if s.proxy != nil {
				failed, lost, _ := s.proxy.Counts()
				refused += failed + lost
			}
			t.Logf("%d contracts (%s) in %s; %d vendor calls failed, refused or lost their answer; side effects: %v",
				tt.contracts, w.lifeMix(), time.Since(began).Round(time.Second), refused, effects)
		})
	}
}

// budgetEnv shortens every retry budget to a few seconds, so an outage of
// ten seconds outlasts it.
func budgetEnv() map[string]string {
	env := shortRetries()
	for k, v := range map[string]string{
		"CONTRACT_SYNC_RETRY_BUDGET":      "3s",
		"CONTRACT_SYNC_RETRY_BASE_DELAY":  "300ms",
		"CONTRACT_SYNC_RETRY_MAX_DELAY":   "1s",
		"CONTRACT_SYNC_INLINE_ATTEMPTS":   "2",
		"DOCUMENT_ARCHIVE_RETRY_BUDGET":   "3s",
		"DOCUMENT_ARCHIVE_RETRY_INITIAL":  "300ms",
		"DOCUMENT_ARCHIVE_RETRY_MAX":      "1s",
		"FLEXHRM_RETRY_BUDGET":            "300ms",
		"CONTRACT_SYNC_INLINE_BASE_DELAY": "100ms",
	} {
		env[k] = v
	}
	return env
}

// waitFailures waits until every contract is listed in ListFailures and
// returns their reasons by contract id.
func waitFailures(ctx context.Context, t *testing.T, s *system, contracts []*contractLife, within time.Duration) map[int64]string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		all, err := s.failures(ctx)
		reasons := map[int64]string{}
		for _, f := range all {
			reasons[f.GetContractId()] = fmt.Sprintf("%v: %s", f.GetFlow(), f.GetReason())
		}
		missing := 0
		for _, c := range contracts {
			if _, ok := reasons[c.id]; !ok {
				missing++
			}
		}
		if err == nil && missing == 0 {
			return reasons
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d contracts not listed in failures after %s (err %v; listed %v)", missing, len(contracts), within, err, reasons)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// replay asks contract-sync to re-run each contract's flows.
func replay(ctx context.Context, t *testing.T, s *system, contracts []*contractLife) {
	t.Helper()
	for _, c := range contracts {
		if _, err := s.sync.ReplayContract(s.authed(ctx), &contractsyncv1.ReplayContractRequest{ContractId: c.id}); err != nil {
			t.Fatalf("replay %d: %v", c.id, err)
		}
	}
}

// ctlFailures runs `flexflowctl failures` against the stack.
func ctlFailures(ctx context.Context, s *system) string {
	var out strings.Builder
	ctl.Main(ctx, []string{"failures"}, ctl.Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string {
		switch k {
		case "FLEXFLOW_OPERATOR_TOKEN":
			return s.operatorToken
		case "CONTRACT_SYNC_ADDR":
			return s.env["CONTRACT_SYNC_ADDR"]
		case "DOCUMENT_ARCHIVE_ADDR":
			return s.env["DOCUMENT_ARCHIVE_ADDR"]
		}
		return ""
	}})
	return out.String()
}

// parallelSteps runs one step for every contract at once.
func parallelSteps(ctx context.Context, t *testing.T, contracts []*contractLife, steps ...func(context.Context, *contractLife) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(contracts))
	for i, c := range contracts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, step := range steps {
				if err := step(ctx, c); err != nil {
					errs[i] = fmt.Errorf("contract #%d (id %d): %w", c.i, c.id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOutagesLongerThanTheRetryBudgetEndInFailuresThatAReplayCompletes(t *testing.T) {
	requireChaos(t)
	ctx := contextWithTimeout(t, 8*time.Minute)
	s := startSystem(t, systemOptions{ServiceEnv: budgetEnv(), OneflowProxy: true, OneflowSandboxArgs: fastResends})
	w := newWorkload(ctx, t, s, 6)
	w.failuresExpected = true
	cs := w.contracts
	for _, c := range cs {
		c.life = lifeSigned
	}

	t.Run("flex_hrm_down_while_contracts_are_created", func(t *testing.T) {
		s.must(flexOutage(ctx, s, 503))
		began := time.Now()
		parallelSteps(ctx, t, cs, w.create)
		reasons := waitFailures(ctx, t, s, cs, 90*time.Second)
		for id, r := range reasons {
			if !strings.Contains(r, "Flex HRM") || !strings.Contains(r, "gave up after retrying") {
				t.Errorf("contract %d: reason %q does not say Flex HRM was retried until the budget ran out", id, r)
			}
		}
		listed := ctlFailures(ctx, s)
		for _, c := range cs {
			if !strings.Contains(listed, strconv.FormatInt(c.id, 10)) {
				t.Errorf("flexflowctl failures does not list contract %d:\n%s", c.id, listed)
			}
		}
		t.Logf("%d contracts failed %s into the outage; flexflowctl failures:\n%s", len(cs), time.Since(began).Round(time.Second), listed)
		s.must(flexOutage(ctx, s))
		replay(ctx, t, s, cs)
		parallelSteps(ctx, t, cs, w.fill, w.changeDraft)
	})
	t.Run("oneflow_down_while_contracts_are_published", func(t *testing.T) {
		s.proxy.SetFailures(1, 503)
		for _, c := range cs {
			s.must(s.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/publish", c.id), nil, nil))
		}
		wantReasonsNaming(t, waitFailures(ctx, t, s, cs, 90*time.Second), cs[0].id, "Oneflow")
		s.proxy.SetFailures(0)
		replay(ctx, t, s, cs)
		for _, c := range cs {
			if err := w.waitDocuments(ctx, c, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING, 1); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("flex_hrm_down_while_contracts_are_signed", func(t *testing.T) {
		s.must(flexOutage(ctx, s, 503))
		for _, c := range cs {
			s.must(s.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/sign", c.id), nil, nil))
		}
		wantReasonsNaming(t, waitFailures(ctx, t, s, cs, 90*time.Second), cs[0].id, "Flex HRM")
		s.must(flexOutage(ctx, s))
		replay(ctx, t, s, cs)
		parallelSteps(ctx, t, cs, w.waitSigned)
	})
	if err := s.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("after three outages and replays: %v", w.verify(ctx, t))
}

func TestRevokedCredentialsFailAtOnceWithoutARetryStormAndAReplayRecovers(t *testing.T) {
	requireChaos(t)
	ctx := contextWithTimeout(t, 8*time.Minute)
	s := startSystem(t, systemOptions{ServiceEnv: shortRetries(), OneflowSandboxArgs: fastResends})
	w := newWorkload(ctx, t, s, 9)
	w.failuresExpected = true
	for _, c := range w.contracts {
		c.life = lifeSigned
	}
	signing, creating, oneflowSide := w.contracts[0:3], w.contracts[3:6], w.contracts[6:9]

	t.Run("flex_hrm_credentials_revoked", func(t *testing.T) {
		parallelSteps(ctx, t, signing, w.create, w.fill, w.changeDraft, w.publish)
		seq := 0
		for _, r := range s.flexRequests(ctx) {
			seq = max(seq, r.Seq)
		}
		s.must(s.flex(ctx, http.MethodPost, "/_sandbox/credentials", map[string]bool{"revoked": true}, nil))
		began := time.Now()
		for _, c := range signing {
			s.must(s.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/sign", c.id), nil, nil))
		}
		parallelSteps(ctx, t, creating, w.create)
		affected := append(append([]*contractLife(nil), signing...), creating...)
		reasons := waitFailures(ctx, t, s, affected, 60*time.Second)
		failedAfter := time.Since(began)
		time.Sleep(3 * time.Second) // a storm would show now
		var calls, refused int
		for _, r := range s.flexRequests(ctx) {
			if r.Seq > seq {
				calls++
				if r.Status == http.StatusUnauthorized {
					refused++
				}
			}
		}
		t.Logf("reason listed for contract %d: %s", signing[0].id, reasons[signing[0].id])
		for id, r := range reasons {
			if !strings.Contains(r, "Flex HRM") || !strings.Contains(strings.ToLower(r), "credentials") {
				t.Errorf("contract %d: reason %q does not say Flex HRM refused flexflow's credentials", id, r)
			}
		}
		if limit := 4*len(affected) + 6; calls > limit {
			t.Errorf("%d Flex HRM calls (%d refused) while the credentials were revoked, for %d contracts: a retry storm (limit %d)",
				calls, refused, len(affected), limit)
		}
		t.Logf("Flex HRM credentials revoked: %d contracts failed within %s; %d calls to Flex HRM during the outage (%d answered 401) in %s",
			len(affected), failedAfter.Round(100*time.Millisecond), calls, refused, time.Since(began).Round(time.Second))
		s.must(s.flex(ctx, http.MethodPost, "/_sandbox/credentials", map[string]bool{"revoked": false}, nil))
		replay(ctx, t, s, affected)
		parallelSteps(ctx, t, signing, w.waitSigned)
		parallelSteps(ctx, t, creating, w.fill, w.changeDraft, w.publish, w.conclude)
	})
	t.Run("oneflow_token_revoked", func(t *testing.T) {
		before := len(s.oneflowRequests(ctx))
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/token/revoke", nil, nil))
		began := time.Now()
		parallelSteps(ctx, t, oneflowSide, w.create)
		reasons := waitFailures(ctx, t, s, oneflowSide, 60*time.Second)
		failedAfter := time.Since(began)
		time.Sleep(3 * time.Second)
		all := s.oneflowRequests(ctx)
		var calls, refused int
		for _, r := range all[before:] {
			if strings.HasPrefix(r.Path, "/v1/") {
				calls++
				if r.Status == http.StatusUnauthorized {
					refused++
				}
			}
		}
		t.Logf("reason listed for contract %d: %s", oneflowSide[0].id, reasons[oneflowSide[0].id])
		for id, r := range reasons {
			lower := strings.ToLower(r)
			if !strings.Contains(r, "Oneflow") || !(strings.Contains(lower, "token") || strings.Contains(lower, "credentials")) {
				t.Errorf("contract %d: reason %q does not say Oneflow refused flexflow's API token", id, r)
			}
		}
		if limit := 4*len(oneflowSide) + 6; calls > limit {
			t.Errorf("%d Oneflow calls (%d refused) while the token was revoked, for %d contracts: a retry storm (limit %d)",
				calls, refused, len(oneflowSide), limit)
		}
		t.Logf("Oneflow token revoked: %d contracts failed within %s; %d calls to Oneflow during the outage (%d answered 401)",
			len(oneflowSide), failedAfter.Round(100*time.Millisecond), calls, refused)
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/token/restore", nil, nil))
		replay(ctx, t, s, oneflowSide)
		parallelSteps(ctx, t, oneflowSide, w.fill, w.changeDraft, w.publish, w.conclude)
	})
	if err := s.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("after both revocations and replays: %v", w.verify(ctx, t))
}

// wantReasonsNaming checks that every failure reason names the vendor that
// was down, and logs one of them.
func wantReasonsNaming(t *testing.T, reasons map[int64]string, example int64, vendor string) {
	t.Helper()
	t.Logf("reason listed for contract %d: %s", example, reasons[example])
	for id, r := range reasons {
		if !strings.Contains(r, vendor) {
			t.Errorf("contract %d: reason %q does not name %s", id, r, vendor)
		}
	}
}
