package flexhrm_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// TestPacedClientNeverHasARequestRefusedTwiceInARow runs many concurrent
// reads through one client against the sandbox's rate limit and reads the
// sandbox's request log: every read has its own path (an unknown employee,
// answered 404 once it gets through), so each path's answers in order are
// one logical request's tries, and no 429 may follow a 429.
func TestPacedClientNeverHasARequestRefusedTwiceInARow(t *testing.T) {
	srv, c := sandboxClient(t, func(o *flexhrm.Options) {
		o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: time.Minute, InitialInterval: 10 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	})
	if err := srv.SetRateLimit(sandbox.RateLimit{RequestsPerSecond: 20, Burst: 5, RetryAfterSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	const workers, reads = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*reads)
	for range workers {
		wg.Go(func() {
			for range reads {
				if _, err := c.GetEmployee(t.Context(), uuid.NewString()); !errors.Is(err, flexhrm.ErrNotFound) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a read did not get through to its 404: %v", err)
	}
	byPath := map[string][]int{}
	refused := 0
	for _, r := range srv.Requests() {
		byPath[r.Path] = append(byPath[r.Path], r.Status)
		if r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("the rate limit never answered 429; the test proves nothing")
	}
	if len(byPath) != workers*reads {
		t.Fatalf("%d paths in the log, want %d", len(byPath), workers*reads)
	}
	for path, statuses := range byPath {
		for i := 1; i < len(statuses); i++ {
			if statuses[i] == http.StatusTooManyRequests && statuses[i-1] == http.StatusTooManyRequests {
				t.Errorf("%s answered %v: refused twice in a row", path, statuses)
				break
			}
		}
	}
	t.Logf("%d reads, %d refusals, none refused twice in a row", workers*reads, refused)
}
