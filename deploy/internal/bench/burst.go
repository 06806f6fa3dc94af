package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/oneflow"
	ofsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
)

// BurstOptions size the month-end burst.
type BurstOptions struct {
	// Contracts signed at once.
	Contracts int
	// RequestsPerSecond, Burst and RetryAfterSeconds are the Flex HRM
	// sandbox's rate limit during the burst.
	RequestsPerSecond float64
	Burst             int
	RetryAfterSeconds int
	// Timeout bounds the burst phase (the preparation has its own bound).
	Timeout time.Duration
	Logger  *slog.Logger
	// Progress receives a line now and then (nil: none).
	Progress io.Writer
}

// ProcessCalls is what one process sent to Flex HRM during the burst.
type ProcessCalls struct {
	Name     string
	Answered int // 2xx
	Refused  int // 429
	Other    int // any other status
}

// BurstResult is what the month-end burst measured.
type BurstResult struct {
	Options BurstOptions
	// Prepare is how long create, fetch, publish and the Pending archive of
	// every contract took, without a rate limit.
	Prepare time.Duration
	// Elapsed runs from the first sign to the last Signed document or
	// employment period written.
	Elapsed time.Duration
	// CallsNeeded are the Flex HRM requests answered 2xx during the burst;
	// Ideal is CallsNeeded at exactly the allowed rate; Ratio is
	// Elapsed/Ideal.
	CallsNeeded int
	Ideal       time.Duration
	Ratio       float64
	// Refused counts 429s, Other any answer neither 2xx nor 429.
	Refused, Other int
	// PerContract breaks CallsNeeded down by path id.
	PerPath map[string]int
	// SignSynced counts contracts whose sign flow completed in sync;
	// SignedOnce those with exactly one Signed document in Flex HRM,
	// SignedTwice those with more; PeriodsOnce employees with exactly one
	// employment period; Failures the contracts listed as failed.
	SignSynced, SignedOnce, SignedTwice, PeriodsOnce, Failures int
	// RefusedTwice counts logical requests answered 429 right after a 429;
	// RefusedTwiceEarly those of them retried sooner than the Retry-After
	// (refused for lack of backoff).
	RefusedTwice, RefusedTwiceEarly int
	RefusedTwiceExamples            []string
	Processes                       []ProcessCalls
	// Timeline is answered 2xx and 429s per process per interval.
	Timeline []TimelineStep
}

// TimelineStep is one interval of the burst.
type TimelineStep struct {
	From                        time.Duration
	Directory, DirectoryRefused int
	Archive, ArchiveRefused     int
}

func timeline(sys *system, start, end time.Time, step time.Duration) []TimelineStep {
	n := int(end.Sub(start)/step) + 1
	out := make([]TimelineStep, n)
	for i := range out {
		out[i].From = time.Duration(i) * step
	}
	for name, p := range sys.proxies {
		for _, r := range p.records() {
			i := int(r.Time.Sub(start) / step)
			if i < 0 || i >= n {
				continue
			}
			ok := r.Status >= 200 && r.Status < 300
			refused := r.Status == http.StatusTooManyRequests
			switch {
			case name == "employee-directory" && ok:
				out[i].Directory++
			case name == "employee-directory" && refused:
				out[i].DirectoryRefused++
			case ok:
				out[i].Archive++
			case refused:
				out[i].ArchiveRefused++
			}
		}
	}
	return out
}

// templateEmail is the Oneflow sandbox's Flex HRM template whose delivery
// channel is email (every bench employee has one).
const templateEmail = 11

// BurstScenario signs Contracts contracts at once while the Flex HRM sandbox
// allows RequestsPerSecond. Create, fetch, publish and the Pending archive
// happen first without a limit; then the limit is set and every contract is
// signed in one go. It measures the time to the last Signed document or
// employment period against the ideal (calls needed ÷ rate), checks that
// nothing was lost or done twice, and that no logical request was refused
// twice in a row.
func BurstScenario(ctx context.Context, o BurstOptions) (BurstResult, error) {
	res := BurstResult{Options: o, PerPath: map[string]int{}}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "month-end burst: "+format+"\n", args...)
		}
	}
	flex := flexsandbox.New(flexsandbox.DefaultSeed())
	employees, err := addEmployees(flex, o.Contracts, 70001)
	if err != nil {
		return res, err
	}
	sys, err := startSystem(ctx, flex, logger)
	if err != nil {
		return res, err
	}
	defer sys.Close()

	// Preparation, without a rate limit.
	prepStart := time.Now()
	ids := make([]int64, len(employees))
	for i, e := range employees {
		c, err := sys.oneflow.CreateContract(ofsandbox.CreateContractRequest{TemplateID: templateEmail, EmployeeNumber: e.Number})
		if err != nil {
			return res, fmt.Errorf("create contract: %w", err)
		}
		ids[i] = c.ID
	}
	progress("%d contracts created; waiting for the fetch flows", len(ids))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := waitAll(pctx, ids, func(ctx context.Context, id int64) (bool, error) {
		return sys.completed(ctx, id, "fetch")
	}); err != nil {
		return res, fmt.Errorf("fetch: %w", err)
	}
	for i, id := range ids {
		if err := sys.oneflow.SetDataField(id, oneflow.CustomIDCity, fmt.Sprintf("Benchby %d", i)); err != nil {
			return res, err
		}
		if err := sys.oneflow.SetDataField(id, oneflow.CustomIDEmploymentStart, fmt.Sprintf("2027-%02d-%02d", 1+i%12, 1+i%28)); err != nil {
			return res, err
		}
		if err := sys.oneflow.Publish(id); err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
	}
	progress("published; waiting for the Pending documents")
	if err := waitAll(pctx, ids, func(ctx context.Context, id int64) (bool, error) {
		return sys.completed(ctx, id, "publish")
	}); err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	if err := waitFor(pctx, func() bool { return countDocs(flex, employees, " - Pending.pdf") == len(employees) }); err != nil {
		return res, fmt.Errorf("pending documents: %w", err)
	}
	if err := sys.oneflow.WaitForDeliveries(pctx); err != nil {
		return res, fmt.Errorf("webhooks: %w", err)
	}
	res.Prepare = time.Since(prepStart)
	progress("prepared in %s", res.Prepare.Round(time.Second))
	// Longer than the clients' pacing window, so nothing from the
	// preparation counts as recent traffic.
	sleepCtx(ctx, 4*time.Second)

	// The burst.
	flex.ClearRequests()
	for _, p := range sys.proxies {
		p.clear()
	}
	if err := flex.SetRateLimit(flexsandbox.RateLimit{RequestsPerSecond: o.RequestsPerSecond, Burst: o.Burst, RetryAfterSeconds: o.RetryAfterSeconds}); err != nil {
		return res, err
	}
	defer func() { _ = flex.SetRateLimit(flexsandbox.RateLimit{}) }()
	start := time.Now()
	for _, id := range ids {
		if err := sys.oneflow.SignAll(id); err != nil {
			return res, fmt.Errorf("sign: %w", err)
		}
	}
	bctx, bcancel := context.WithTimeout(ctx, o.Timeout)
	defer bcancel()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ok, refused := 0, 0
				for _, r := range flex.Requests() {
					switch {
					case r.Status == http.StatusTooManyRequests:
						refused++
					case r.Status >= 200 && r.Status < 300:
						ok++
					}
				}
				progress("%s: %d Signed documents, %d calls answered (%.1f/s), %d refused",
					time.Since(start).Round(time.Second), countDocs(flex, employees, " - Signed.pdf"), ok, float64(ok)/time.Since(start).Seconds(), refused)
			}
		}
	}()
	err = waitAll(bctx, ids, func(ctx context.Context, id int64) (bool, error) {
		return sys.completed(ctx, id, "sign")
	})
	if err == nil {
		err = waitFor(bctx, func() bool { return countDocs(flex, employees, " - Signed.pdf") == len(employees) })
	}
	close(stop)
	if err != nil {
		return res, fmt.Errorf("burst: %w (see the progress lines)", err)
	}
	// Anything done twice would show up right behind the last one.
	sleepCtx(ctx, 3*time.Second)

	var end time.Time
	for _, r := range flex.Requests() {
		switch {
		case r.Status == http.StatusTooManyRequests:
			res.Refused++
			continue
		case r.Status < 200 || r.Status > 299:
			res.Other++
			continue
		}
		res.CallsNeeded++
		res.PerPath[r.Method+" "+r.PathID]++
		q, _ := url.ParseQuery(r.Query)
		if (r.PathID == "P10" && strings.HasSuffix(q.Get("title"), " - Signed.pdf")) || r.PathID == "P5" || r.PathID == "P6" {
			if r.Time.After(end) {
				end = r.Time
			}
		}
	}
	res.Elapsed = end.Sub(start)
	res.Ideal = time.Duration(float64(res.CallsNeeded) / o.RequestsPerSecond * float64(time.Second))
	if res.Ideal > 0 {
		res.Ratio = res.Elapsed.Seconds() / res.Ideal.Seconds()
	}

	// Nothing lost, nothing twice.
	for _, id := range ids {
		if ok, err := sys.inSync(ctx, id, "sign"); err != nil {
			return res, err
		} else if ok {
			res.SignSynced++
		}
	}
	st := flex.State()
	signed, periods := map[string]int{}, map[string]int{}
	for _, d := range st.Documents {
		if strings.HasSuffix(d.Title, " - Signed.pdf") {
			signed[d.EmployeeID]++
		}
	}
	for _, p := range st.EmploymentPeriods {
		periods[p.EmployeeID]++
	}
	for _, e := range employees {
		switch n := signed[e.ID]; {
		case n == 1:
			res.SignedOnce++
		case n > 1:
			res.SignedTwice++
		}
		if periods[e.ID] == 1 {
			res.PeriodsOnce++
		}
	}
	failures, err := sys.client.ListFailures(operator(ctx), &contractsyncv1.ListFailuresRequest{PageSize: 500})
	if err != nil {
		return res, fmt.Errorf("list failures: %w", err)
	}
	res.Failures = len(failures.GetFailures())

	var all []proxyRecord
	for _, name := range []string{"employee-directory", "document-archive"} {
		recs := sys.proxies[name].records()
		pc := ProcessCalls{Name: name}
		for _, r := range recs {
			switch {
			case r.Status == http.StatusTooManyRequests:
				pc.Refused++
			case r.Status >= 200 && r.Status < 300:
				pc.Answered++
			default:
				pc.Other++
			}
			// The two processes never send the same logical request; the
			// name keeps them apart anyway.
			r.Path = name + ":" + r.Path
			all = append(all, r)
		}
		res.Processes = append(res.Processes, pc)
	}
	res.RefusedTwice, res.RefusedTwiceEarly, res.RefusedTwiceExamples = refusalRuns(all, time.Duration(o.RetryAfterSeconds)*time.Second, 5)
	// About 40 rows, in whole 10 s steps.
	res.Timeline = timeline(sys, start, end, max(10*time.Second, (res.Elapsed/40).Truncate(10*time.Second)))
	return res, nil
}

// completed reports whether contract-sync finished flow for the contract.
func (s *system) completed(ctx context.Context, id int64, flow string) (bool, error) {
	r, err := s.client.GetContractSync(operator(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: id})
	if err != nil {
		return false, err
	}
	if r.GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_FAILED {
		return false, fmt.Errorf("contract %d failed: %s", id, r.GetSync().GetLastFailure())
	}
	return slices.Contains(r.GetSync().GetCompletedFlows(), flow), nil
}

// inSync reports whether the flow completed and the contract is in sync.
func (s *system) inSync(ctx context.Context, id int64, flow string) (bool, error) {
	r, err := s.client.GetContractSync(operator(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: id})
	if err != nil {
		return false, err
	}
	return r.GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC &&
		slices.Contains(r.GetSync().GetCompletedFlows(), flow), nil
}

func countDocs(flex *flexsandbox.Server, employees []benchEmployee, suffix string) int {
	ours := make(map[string]bool, len(employees))
	for _, e := range employees {
		ours[e.ID] = true
	}
	seen := map[string]bool{}
	for _, d := range flex.State().Documents {
		if ours[d.EmployeeID] && strings.HasSuffix(d.Title, suffix) {
			seen[d.EmployeeID] = true
		}
	}
	return len(seen)
}

// waitAll polls done for every id until each has said yes once, a few at a
// time, a pass every second.
func waitAll(ctx context.Context, ids []int64, done func(context.Context, int64) (bool, error)) error {
	pending := append([]int64(nil), ids...)
	for {
		var mu sync.Mutex
		var still []int64
		var firstErr error
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for _, id := range pending {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ok, err := done(ctx, id)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && ctx.Err() == nil && firstErr == nil && !isTransient(err) {
					firstErr = err
				}
				if !ok {
					still = append(still, id)
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d not done: %w", len(pending), len(ids), ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

func isTransient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Unavailable")
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
