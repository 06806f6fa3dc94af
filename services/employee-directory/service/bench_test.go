package service_test

import (
	"context"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/grpcx"
	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/service"
)

// flexLatency is the sandbox's added latency per call in the latency
// benchmarks; results are reported as multiples of it.
const flexLatency = 20 * time.Millisecond

// BenchmarkGetEmployee measures GetEmployee end to end (gRPC client → service
// → Flex HRM sandbox over loopback). Custom metrics:
//
//   - flex-calls/op: Flex HRM requests per GetEmployee, from the sandbox's
//     request log;
//   - round-trips/op: sequential waves of Flex HRM requests per GetEmployee
//     (requests arriving within flexLatency/2 of a wave's first are
//     concurrent with it);
//   - x20ms/op: latency as a multiple of the sandbox's 20 ms;
//   - throughput-ratio: GetEmployee served from the employee cache against a
//     bare unary call to a trivial service on the same kind of server, in
//     the same run (1.0 = as fast as gRPC itself);
//   - req/s: requests per second with concurrent callers.
func BenchmarkGetEmployee(b *testing.B) {
	b.Run("latency=20ms/titles-cached", func(b *testing.B) {
		h := start(b, func(c *service.Config, sb *sandbox.Server) { c.ReferenceCacheTTL = time.Hour }).ready(b)
		get(b, h) // warm the titles cache
		h.sandbox.SetLatency(flexLatency)
		measureSequential(b, h)
	})
	b.Run("latency=20ms/nothing-cached", func(b *testing.B) {
		// A reference TTL of 1ns expires titles at once: every call lists them.
		h := start(b, func(c *service.Config, sb *sandbox.Server) { c.ReferenceCacheTTL = time.Nanosecond }).ready(b)
		h.sandbox.SetLatency(flexLatency)
		measureSequential(b, h)
	})
	b.Run("employee-cache-vs-bare-grpc", func(b *testing.B) {
		h := start(b, func(c *service.Config, sb *sandbox.Server) { c.EmployeeCacheTTL = time.Hour }).ready(b)
		resp := get(b, h)
		bare := startBare(b, resp)
		h.sandbox.ClearRequests()

		// Alternate the two in rounds, each going first in turn, so that
		// warm-up and the machine's other load hit both alike.
		const rounds = 10
		var bareElapsed, cachedElapsed time.Duration
		b.ResetTimer()
		for r := range rounds {
			n := b.N / rounds
			if r < b.N%rounds {
				n++
			}
			if r%2 == 0 {
				bareElapsed += parallelCalls(b, bare, n)
				cachedElapsed += parallelCalls(b, h.client, n)
			} else {
				cachedElapsed += parallelCalls(b, h.client, n)
				bareElapsed += parallelCalls(b, bare, n)
			}
		}
		b.StopTimer()

		if n := len(h.sandbox.Requests()); n != 0 {
			b.Fatalf("cached reads reached Flex HRM %d times", n)
		}
		b.ReportMetric(float64(bareElapsed.Nanoseconds())/float64(b.N), "bare-ns/op")
		b.ReportMetric(float64(cachedElapsed.Nanoseconds())/float64(b.N), "cached-ns/op")
		b.ReportMetric(bareElapsed.Seconds()/cachedElapsed.Seconds(), "throughput-ratio")
	})
	b.Run("uncached/latency=0/one-caller", func(b *testing.B) {
		h := start(b, nil).ready(b)
		get(b, h) // titles are cached as in steady state; employees are not
		h.sandbox.ClearRequests()
		b.ResetTimer()
		began := time.Now()
		for range b.N {
			get(b, h)
		}
		elapsed := time.Since(began)
		b.StopTimer()
		b.ReportMetric(float64(len(h.sandbox.Requests()))/float64(b.N), "flex-calls/op")
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	})
	b.Run("uncached/latency=0/concurrent-callers-same-employee", func(b *testing.B) {
		// Identical concurrent reads are collapsed, so calls per request
		// fall below the 3 of a lone caller.
		h := start(b, nil).ready(b)
		get(b, h)
		h.sandbox.ClearRequests()
		b.ResetTimer()
		elapsed := parallelCalls(b, h.client, b.N)
		b.StopTimer()
		b.ReportMetric(float64(len(h.sandbox.Requests()))/float64(b.N), "flex-calls/op")
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	})
}

// get reads Anna once, failing the benchmark on error.
func get(b testing.TB, h *harness) *edv1.GetEmployeeResponse {
	b.Helper()
	resp, err := h.client.GetEmployee(context.Background(), &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna})
	if err != nil {
		b.Fatal(err)
	}
	return resp
}

// measureSequential runs b.N GetEmployee calls one after another and reports
// calls, round trips and latency in units of flexLatency.
func measureSequential(b *testing.B, h *harness) {
	var calls, waves int
	var spent time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		h.sandbox.ClearRequests()
		b.StartTimer()
		began := time.Now()
		get(b, h)
		spent += time.Since(began)
		b.StopTimer()
		recs := h.sandbox.Requests()
		calls += len(recs)
		waves += roundTrips(recs)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(calls)/float64(b.N), "flex-calls/op")
	b.ReportMetric(float64(waves)/float64(b.N), "round-trips/op")
	b.ReportMetric(float64(spent)/float64(b.N)/float64(flexLatency), "x20ms/op")
}

// roundTrips counts sequential waves: a request arriving flexLatency/2 or
// more after the current wave began starts a new one.
func roundTrips(recs []sandbox.RequestRecord) int {
	times := make([]time.Time, len(recs))
	for i, r := range recs {
		times[i] = r.Time
	}
	slices.SortFunc(times, func(a, c time.Time) int { return a.Compare(c) })
	waves := 0
	var waveStart time.Time
	for _, t := range times {
		if waves == 0 || t.Sub(waveStart) >= flexLatency/2 {
			waves++
			waveStart = t
		}
	}
	return waves
}

// parallelCalls makes n GetEmployee calls from several goroutines and
// returns the wall time they took.
func parallelCalls(b *testing.B, client edv1.EmployeeDirectoryServiceClient, n int) time.Duration {
	workers := 4 * runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	req := &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna}
	began := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := client.GetEmployee(context.Background(), req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(began)
}

// bareDirectory answers GetEmployee with a fixed response: the cost of gRPC
// alone, with the same message.
type bareDirectory struct {
	edv1.UnimplementedEmployeeDirectoryServiceServer
	resp *edv1.GetEmployeeResponse
}

func (d bareDirectory) GetEmployee(context.Context, *edv1.GetEmployeeRequest) (*edv1.GetEmployeeResponse, error) {
	return d.resp, nil
}

// startBare serves bareDirectory on a server built like the service's
// (libs/grpcx: otelgrpc, logging, recovery, the same bearer-token policy) and
// returns a client dialled the same way.
func startBare(b *testing.B, resp *edv1.GetEmployeeResponse) edv1.EmployeeDirectoryServiceClient {
	b.Helper()
	tokens, err := auth.NewTokenSet([]string{employeeToken})
	if err != nil {
		b.Fatal(err)
	}
	policy, err := auth.NewPolicy(map[string]auth.Kind{"/" + edv1.EmployeeDirectoryService_ServiceDesc.ServiceName + "/": auth.KindEmployee},
		map[auth.Kind]auth.TokenSet{auth.KindEmployee: tokens})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := grpcx.NewServer(grpcx.Options{Logger: testLogger(b), Auth: policy})
	if err != nil {
		b.Fatal(err)
	}
	edv1.RegisterEmployeeDirectoryServiceServer(srv, bareDirectory{resp: resp})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, lis) }()
	b.Cleanup(func() { cancel(); <-served })
	conn, err := grpcx.Dial(lis.Addr().String(), grpcx.WithBearerToken(employeeToken))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return edv1.NewEmployeeDirectoryServiceClient(conn)
}
