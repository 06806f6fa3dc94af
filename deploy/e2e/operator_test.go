package e2e

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
)

// TestSyncLogsStayReadableWhileOperatorsPollThemThousandsOfTimes reads one
// contract's sync log 1,200 times in a row, as a dashboard or a `flexflowctl
// status` loop would: every read must answer. (JetStream allows 1,000
// consumers per stream by default; a read that leaves its consumer behind
// for minutes turns the operator API off for everyone once that many reads
// happened.)
func TestSyncLogsStayReadableWhileOperatorsPollThemThousandsOfTimes(t *testing.T) {
	t.Parallel()
	ctx := contextWithTimeout(t, 4*time.Minute)
	s := startSystem(t, systemOptions{ServiceEnv: shortRetries()})
	var created struct {
		ID int64 `json:"id"`
	}
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts", map[string]any{"template_id": 11, "employee_number": "1001"}, &created))
	w := &workload{sys: s, wait: time.Minute, polls: make(chan struct{}, 1)}
	if err := w.waitFetched(ctx, &contractLife{id: created.ID}, "1001"); err != nil {
		t.Fatal(err)
	}

	const reads, readers = 1200, 8
	var failed atomic.Int64
	var firstErr atomic.Value
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= reads && ctx.Err() == nil {
				resp, err := s.sync.GetContractSync(s.authed(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: created.ID})
				if err == nil && len(resp.GetEntries()) == 0 {
					err = errEmptyLog
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d sync log reads failed; first: %v", n, reads, firstErr.Load())
	}
	t.Logf("%d sync log reads by %d readers in %s", reads, readers, time.Since(began).Round(time.Millisecond))
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errEmptyLog = constErr("the sync log came back empty")
