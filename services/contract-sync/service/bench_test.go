package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
)

const vendorLatency = 50 * time.Millisecond

// fetchRun is one contract created with an employee number and filled.
type fetchRun struct {
	latency     time.Duration // webhook sent → last write answered
	oneflow     int           // Oneflow calls up to the last write
	flexhrm     int           // Flex HRM calls (through employee-directory)
	echoReads   int           // Oneflow reads after the last write (echo webhooks)
	writes      int
	webhookSent time.Time
}

func runFetch(tb testing.TB, e *testenv.Env, number string) fetchRun {
	tb.Helper()
	e.Oneflow.ClearRequestLog()
	e.Flex.ClearRequests()
	id := createTB(tb, e, templateEmail, number)
	e.Idle()
	var r fetchRun
	for _, d := range e.Oneflow.Deliveries() {
		if d.ContractID == id && d.EventType == oneflow.EventContractCreate && len(d.Attempts) > 0 {
			r.webhookSent = d.Attempts[0].At
		}
	}
	var lastWrite time.Time
	log := e.Oneflow.RequestLog()
	for _, req := range log {
		end := req.Time.Add(time.Duration(req.DurationMS * float64(time.Millisecond)))
		if req.Method != "GET" && strings.Contains(req.Path, "/contracts/") && end.After(lastWrite) {
			lastWrite = end
		}
	}
	for _, req := range log {
		switch {
		case req.Method != "GET":
			r.writes++
			r.oneflow++
		case req.Time.Before(lastWrite):
			r.oneflow++
		default:
			r.echoReads++
		}
	}
	r.flexhrm = len(e.Flex.Requests())
	r.latency = lastWrite.Sub(r.webhookSent)
	return r
}

// BenchmarkFetchFlowWithBothSandboxesAdding50msPerCall measures the fetch flow
// end to end (signed webhook from the Oneflow sandbox → contract-sync →
// employee-directory → Flex HRM sandbox → writes to Oneflow) with 50 ms added
// to every vendor call. x50ms is the time from the webhook to the last write
// as a multiple of 50 ms (goal ≤ 5; the floor is 4: read the contract; find
// the employee; periods, manager and titles in parallel; the writes in
// parallel). Caches are warm as in steady state (template, active users,
// titles) except employee-directory's employee cache, which is off: every
// contract is a new employee.
func BenchmarkFetchFlowWithBothSandboxesAdding50msPerCall(b *testing.B) {
	e := testenv.New(b, testenv.Options{})
	e.Oneflow.SetLatency("", vendorLatency)
	e.Flex.SetLatency(vendorLatency)
	warm := runFetch(b, e, "1001")
	b.Logf("cold run: %.2f x 50ms, %d Oneflow + %d Flex HRM calls", float64(warm.latency)/float64(vendorLatency), warm.oneflow, warm.flexhrm)

	var sum time.Duration
	var of, fl, echo, writes int
	worst := time.Duration(0)
	b.ResetTimer()
	for b.Loop() {
		r := runFetch(b, e, "1001")
		sum += r.latency
		worst = max(worst, r.latency)
		of += r.oneflow
		fl += r.flexhrm
		echo += r.echoReads
		writes += r.writes
	}
	n := float64(b.N)
	b.ReportMetric(float64(sum)/n/float64(vendorLatency), "x50ms")
	b.ReportMetric(float64(worst)/float64(vendorLatency), "worst-x50ms")
	b.ReportMetric(float64(of)/n, "oneflow-calls/op")
	b.ReportMetric(float64(fl)/n, "flexhrm-calls/op")
	b.ReportMetric(float64(writes)/n, "writes/op")
	b.ReportMetric(float64(echo)/n, "echo-reads/op")
}
