package flexhrm_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/contracttest"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

func TestReadRetriedAfter429HonouringRetryAfter(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) {
		o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: 10 * time.Second, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}
	})
	if err := srv.FailNext(sandbox.FailRule{PathID: "P2", Count: 1, Status: http.StatusTooManyRequests, RetryAfterSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna); err != nil {
		t.Fatalf("GetEmployee after one 429 = %v, want success", err)
	}
	reqs := requestsTo(srv, "P2")
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("requests = %+v, want a 429 then a 200", reqs)
	}
	// The backoff alone would wait a few milliseconds: the gap proves the
	// server's Retry-After was honoured (a lower bound, not a deadline).
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < time.Second {
		t.Fatalf("retried after %v, before the Retry-After of 1s", gap)
	}
}

func TestRateLimitedBurstCompletesThroughRetryAfter(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) {
		o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: 20 * time.Second, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}
	})
	if err := srv.SetRateLimit(sandbox.RateLimit{RequestsPerSecond: 20, Burst: 2, RetryAfterSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := c.GetCompany(t.Context(), sandbox.CompanyA)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a rate-limited read failed: %v", err)
		}
	}
	var limited int
	for _, r := range srv.Requests() {
		if r.Injected == "rate-limit" {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("the rate limit never answered 429; the test proves nothing")
	}
}

func TestServerErrorStormPastTheBudgetIsUnavailable(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) {
		o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: 300 * time.Millisecond, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}
	})
	_ = srv.FailNext(sandbox.FailRule{PathID: "P2", Count: 10_000, Status: http.StatusServiceUnavailable})
	_, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
	var apiErr *flexhrm.APIError
	if !errors.Is(err, flexhrm.ErrUnavailable) || !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	n := len(requestsTo(srv, "P2"))
	if n < 2 || apiErr.Attempts != n || !strings.Contains(err.Error(), "attempts") {
		t.Fatalf("%d requests, %d attempts reported (%v): want several, all counted", n, apiErr.Attempts, err)
	}
}

func TestGatewayErrorsAreRetriedUntilSuccess(t *testing.T) {
	for _, status := range []int{502, 503, 504} {
		srv, c := sandboxClient(t)
		_ = srv.FailNext(sandbox.FailRule{PathID: "P4", Count: 2, Status: status})
		if _, err := c.ListEmploymentPeriods(t.Context(), sandbox.EmployeeAnna); err != nil {
			t.Fatalf("%d twice then success: %v", status, err)
		}
		if n := len(requestsTo(srv, "P4")); n != 3 {
			t.Fatalf("%d: %d requests, want 3", status, n)
		}
	}
}

func TestInternalErrorIsNotRetried(t *testing.T) {
	srv, c := sandboxClient(t)
	_ = srv.FailNext(sandbox.FailRule{PathID: "P2", Count: 5, Status: http.StatusInternalServerError})
	_, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
	if !errors.Is(err, flexhrm.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if n := len(requestsTo(srv, "P2")); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestWritesAreNeverRetried(t *testing.T) {
	pdf := contracttest.MinimalPDF("no retry")
	writes := []struct {
		pathID string
		call   func(ctx context.Context, c *flexhrm.Client) error
	}{
		{"P3", func(ctx context.Context, c *flexhrm.Client) error {
			e, err := c.GetEmployee(ctx, sandbox.EmployeeAnna)
			if err == nil {
				_, err = c.UpdateEmployee(ctx, e)
			}
			return err
		}},
		{"P5", func(ctx context.Context, c *flexhrm.Client) error {
			_, err := c.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{CompanyID: sandbox.CompanyA, EmployeeID: sandbox.EmployeeAnna,
				InstanceID: "0f1e0000-0000-4000-8000-000000000001", FromDate: flexhrm.NewDate(2001, 1, 1)})
			return err
		}},
		{"P6", func(ctx context.Context, c *flexhrm.Client) error {
			periods, err := c.ListEmploymentPeriods(ctx, sandbox.EmployeeAnna)
			if err == nil {
				_, err = c.UpdateEmploymentPeriod(ctx, periods[0])
			}
			return err
		}},
		{"P10", func(ctx context.Context, c *flexhrm.Client) error {
			_, err := c.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: sandbox.EmployeeAnna, CategoryID: sandbox.CategoryOneflowA,
				Title: "x.pdf", PDF: bytes.NewReader(pdf), Size: int64(len(pdf))})
			return err
		}},
	}
	for _, w := range writes {
		for _, status := range []int{429, 503} {
			srv, c := sandboxClient(t)
			_ = srv.FailNext(sandbox.FailRule{PathID: w.pathID, Count: 5, Status: status, RetryAfterSeconds: 1})
			err := w.call(t.Context(), c)
			if err == nil {
				t.Fatalf("%s with %d succeeded", w.pathID, status)
			}
			if n := len(requestsTo(srv, w.pathID)); n != 1 {
				t.Fatalf("%s answered %d was sent %d times, want once", w.pathID, status, n)
			}
			var apiErr *flexhrm.APIError
			if status == 429 && (!errors.As(err, &apiErr) || apiErr.RetryAfter != time.Second) {
				t.Fatalf("%s: the caller is not told the Retry-After: %v", w.pathID, err)
			}
		}
	}
}

func TestRetryAfterBeyondTheBudgetEndsAtOnce(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) { o.Retry.MaxElapsedTime = time.Second })
	_ = srv.FailNext(sandbox.FailRule{PathID: "P2", Count: 5, Status: 429, RetryAfterSeconds: 60})
	_, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
	var apiErr *flexhrm.APIError
	if !errors.Is(err, flexhrm.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Minute {
		t.Fatalf("err = %v, want ErrRateLimited with RetryAfter 1m", err)
	}
	if n := len(requestsTo(srv, "P2")); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestMaxAttemptsBoundsRetries(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) { o.Retry.MaxAttempts = 3 })
	_ = srv.FailNext(sandbox.FailRule{PathID: "P2", Count: 100, Status: 502})
	if _, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna); !errors.Is(err, flexhrm.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if n := len(requestsTo(srv, "P2")); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

// flakyServer drops the first connections without an answer, then serves.
func flakyServer(t *testing.T, drops int32) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var seen atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= drops {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[{"id":"c1","name":"Bolaget AB"}],"totalCount":1}`))
	}))
	t.Cleanup(ts.Close)
	return ts, &seen
}

func TestNetworkErrorsAreRetriedForReads(t *testing.T) {
	ts, seen := flakyServer(t, 2)
	c, err := flexhrm.New(flexhrm.Options{APIRoot: ts.URL, Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"}, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	companies, err := c.ListCompanies(t.Context())
	if err != nil || len(companies) != 1 {
		t.Fatalf("ListCompanies = %v, %v", companies, err)
	}
	if n := seen.Load(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestNetworkErrorOnAWriteIsUnavailableWithoutRetry(t *testing.T) {
	ts, seen := flakyServer(t, 5)
	c, err := flexhrm.New(flexhrm.Options{APIRoot: ts.URL, Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"}, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateEmployee(t.Context(), flexhrm.Employee{ID: "e1"})
	var te *flexhrm.TransportError
	if !errors.Is(err, flexhrm.ErrUnavailable) || !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TransportError (ErrUnavailable)", err)
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
}

func TestSlowAnswerTimesOutPerAttempt(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) {
		o.RequestTimeout = 30 * time.Millisecond
		o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: 200 * time.Millisecond, InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond}
	})
	srv.SetLatency(2 * time.Second)
	_, err := c.GetCompany(t.Context(), sandbox.CompanyA)
	if !errors.Is(err, flexhrm.ErrUnavailable) || !strings.Contains(err.Error(), "request timeout") {
		t.Fatalf("err = %v, want ErrUnavailable naming the request timeout", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a per-attempt timeout must not look like the caller's deadline: %v", err)
	}
}

func TestCallersDeadlineIsReportedAsSuch(t *testing.T) {
	srv, c := sandboxClient(t)
	srv.SetLatency(5 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetCompany(ctx, sandbox.CompanyA)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, flexhrm.ErrUnavailable) {
		t.Fatalf("err = %v, want the caller's context.DeadlineExceeded", err)
	}
}

func TestCancelledContextMakesNoRequest(t *testing.T) {
	srv, c := sandboxClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.GetCompany(ctx, sandbox.CompanyA); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests", n)
	}
}

func TestConnectionRefusedIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c, err := flexhrm.New(flexhrm.Options{APIRoot: "http://" + addr + "/api", Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"},
		Retry: flexhrm.RetryPolicy{MaxElapsedTime: 100 * time.Millisecond, InitialInterval: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FindEmployees(t.Context(), "1001", "")
	var te *flexhrm.TransportError
	if !errors.Is(err, flexhrm.ErrUnavailable) || !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "employmentnumber") || strings.Contains(err.Error(), "1001") {
		t.Fatalf("the error quotes the request URL: %v", err)
	}
}

// A read whose context ends with another call's error as its cause (errgroup
// cancels its siblings with the first failure) reports that cause, and
// leaves the error alone: the other call holds it too.
func TestAReadEndedByASiblingsFailureLeavesThatErrorAlone(t *testing.T) {
	inFlight := make(chan struct{})
	arrived := sync.OnceFunc(func() { close(inFlight) })
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived()
		<-r.Context().Done()
	}))
	t.Cleanup(ts.Close)
	c, err := flexhrm.New(flexhrm.Options{APIRoot: ts.URL, Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"}, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	sibling := &flexhrm.APIError{Op: "list employment periods", Status: http.StatusNotFound, Attempts: 3}
	ctx, cancel := context.WithCancelCause(t.Context())
	go func() {
		<-inFlight
		cancel(sibling)
	}()
	_, err = c.GetEmployee(ctx, sandbox.EmployeeAnna)
	if !errors.Is(err, sibling) {
		t.Fatalf("err = %v, want the sibling's error as the cause", err)
	}
	if !strings.HasPrefix(err.Error(), "flexhrm: get employee: ") {
		t.Errorf("err = %q, want it to name this call", err)
	}
	if sibling.Attempts != 3 {
		t.Errorf("the sibling's error now says %d attempts, want its own 3 untouched", sibling.Attempts)
	}
}
