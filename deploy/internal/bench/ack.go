// Package bench is flexflow's load tool behind `make bench`: each scenario
// measures flexflow against a baseline in the same run and reports the ratio,
// so the numbers mean the same on any machine.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	gateway "github.com/flexflow/flexflow/gateway/service"
	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/oneflow"
	contractsync "github.com/flexflow/flexflow/services/contract-sync/service"
)

// Result is one measured variant.
type Result struct {
	Name       string
	Requests   int64
	Errors     int64
	Duration   time.Duration
	P50, P99   time.Duration
	PerSecond  float64
	Concurrent int
	// VsEdge and VsJetStream are medians of per-round ratios.
	VsEdge, VsJetStream float64
	// RatioSpread is the lowest and highest per-round ratio to the edge.
	RatioSpread [2]float64
}

// median returns the result with the median throughput.
func median(rs []Result) Result {
	s := append([]Result(nil), rs...)
	sort.Slice(s, func(i, j int) bool { return s[i].PerSecond < s[j].PerSecond })
	return s[len(s)/2]
}

// AckOptions size the webhook-ack scenario.
type AckOptions struct {
	// Only, when set, runs just the variant whose name starts with it (for
	// profiling one path).
	Only string
	// Rounds of every variant; per-round ratios are reported as a median.
	Rounds      int
	Duration    time.Duration
	Concurrency int
	Partitions  int
	Logger      *slog.Logger
}

const signKey = "bench-sign-key-0123456789"

// AckScenario measures webhooks acknowledged per second (verified and stored
// in JetStream) through three paths on one embedded NATS server:
//   - plain JetStream synchronous publishes (the floor of the stack),
//   - a minimal single-process edge: one net/http handler that checks the
//     signature and publishes to the same stream,
//   - flexflow: gateway → gRPC → contract-sync ingest → JetStream.
func AckScenario(ctx context.Context, o AckOptions) ([]Result, error) {
	dir, err := os.MkdirTemp("", "flexflow-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{DataDir: dir, ServerName: "bench"})
	if err != nil {
		return nil, err
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()

	logger := o.Logger
	cs, gw, err := startIngestEdge(ctx, srv.ClientURL(), 1, dir, o.Partitions, logger)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	defer gw.Close()

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	edge, err := startMinimalEdge(js, o.Partitions)
	if err != nil {
		return nil, err
	}
	defer edge.Close()

	var seq atomic.Int64
	payload := func() (string, []byte) {
		n := seq.Add(1)
		cb := "bench-" + strconv.FormatInt(n, 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		contract := n%5000 + 1
		body := fmt.Sprintf(`{"contract":{"id":%d},"callback_id":%q,"signature":%q,"events":[{"id":%d,"type":"contract:publish","created_time":"2026-05-02T10:15:30+00:00"}]}`,
			contract, cb, oneflow.Sign(cb, signKey), n)
		return cb, []byte(body)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2, MaxConnsPerHost: o.Concurrency * 2}}
	postTo := func(url string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, body := payload()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
	}
	jsPublish := func(ctx context.Context) error {
		cb, body := payload()
		n := seq.Load()
		_, err := js.Publish(ctx, webhookSubject(n%5000+1, o.Partitions), body, jetstream.WithMsgID(cb))
		return err
	}

	variants := []struct {
		name string
		op   func(context.Context) error
	}{
		{"plain JetStream publish (sync)", jsPublish},
		{"minimal edge (net/http + JetStream)", postTo(edge.URL + "/v1/webhooks/oneflow")},
		{"flexflow (gateway → contract-sync → JetStream)", postTo(gw.URL() + "/v1/webhooks/oneflow")},
	}
	if o.Only != "" {
		for _, v := range variants {
			if strings.HasPrefix(v.name, o.Only) {
				return []Result{load(ctx, v.name, o.Concurrency, o.Duration, v.op)}, nil
			}
		}
		return nil, fmt.Errorf("no variant %q", o.Only)
	}
	// Short rounds with the variants back to back, their order rotating:
	// noise from the rest of the machine then lands on every variant alike,
	// and the median of the per-round ratios ignores a round it spoiled.
	rounds := o.Rounds
	if rounds <= 0 {
		rounds = 5
	}
	per := make([][]Result, len(variants))
	for round := 0; round < rounds; round++ {
		for i := range variants {
			v := variants[(i+round)%len(variants)]
			idx := (i + round) % len(variants)
			per[idx] = append(per[idx], load(ctx, v.name, o.Concurrency, o.Duration, v.op))
		}
	}
	out := make([]Result, 0, len(variants))
	for i := range variants {
		out = append(out, median(per[i]))
	}
	ratios := func(a, b int) []float64 {
		rs := make([]float64, rounds)
		for r := 0; r < rounds; r++ {
			rs[r] = per[a][r].PerSecond / per[b][r].PerSecond
		}
		sort.Float64s(rs)
		return rs
	}
	edgeRatios := ratios(2, 1)
	jsRatios := ratios(2, 0)
	edgeVsJS := ratios(1, 0)
	out[2].VsEdge, out[2].VsJetStream = edgeRatios[rounds/2], jsRatios[rounds/2]
	out[1].VsEdge, out[1].VsJetStream = 1, edgeVsJS[rounds/2]
	out[0].VsEdge, out[0].VsJetStream = 1/edgeVsJS[rounds/2], 1
	out[2].RatioSpread = [2]float64{edgeRatios[0], edgeRatios[rounds-1]}
	return out, nil
}

func webhookSubject(contract int64, partitions int) string {
	return fmt.Sprintf("flexflow.webhooks.oneflow.%02d.%d", contract%int64(partitions), contract)
}

// startMinimalEdge is the baseline the issue names: one handler that decodes,
// checks the signature and publishes to the same stream, nothing else.
func startMinimalEdge(js jetstream.JetStream, partitions int) (*edgeServer, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/webhooks/oneflow", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		n, err := oneflow.DecodeNotification(body)
		if err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		if !oneflow.VerifySignature(n.CallbackID, n.Signature, signKey) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if _, err := js.Publish(r.Context(), webhookSubject(n.Contract.ID, partitions), body, jetstream.WithMsgID(n.CallbackID)); err != nil {
			http.Error(w, "store failed", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &http.Server{Handler: mux}
	go func() { _ = s.Serve(lis) }()
	return &edgeServer{URL: "http://" + lis.Addr().String(), srv: s}, nil
}

type edgeServer struct {
	URL string
	srv *http.Server
}

func (e *edgeServer) Close() { _ = e.srv.Close() }

// load runs op from concurrency workers for d and measures it.
func load(ctx context.Context, name string, concurrency int, d time.Duration, op func(context.Context) error) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := op(ctx); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	return Result{Name: name, Requests: int64(len(lat)), Errors: errs.Load(), Duration: elapsed,
		P50: pct(0.50), P99: pct(0.99), PerSecond: float64(len(lat)) / elapsed.Seconds(), Concurrent: concurrency}
}

// startIngestEdge starts what a webhook meets on its way to JetStream: an
// ingest-only contract-sync (no workers; its peers and Oneflow unreachable
// on purpose, nothing but ingest is measured) and a gateway in front of it.
// The caller closes both, the gateway first.
func startIngestEdge(ctx context.Context, natsURL string, replicas int, dataDir string, partitions int, logger *slog.Logger) (*contractsync.Service, *gateway.Gateway, error) {
	cs, err := contractsync.Start(ctx, contractsync.Config{
		Addr: "127.0.0.1:0", OneflowAPIURL: mustURL("http://127.0.0.1:1/v1"), OneflowAPIToken: "unused-token",
		OneflowUserEmail: "bench@example.com", OneflowSignKey: signKey, NATSURL: natsURL,
		NATSReplicas: replicas, DataDir: dataDir, WebhookPartitions: partitions, EmployeeDirectoryAddr: "127.0.0.1:1",
		EmployeeDirectoryToken: "unused-employee-token", DocumentArchiveAddr: "127.0.0.1:1",
		OperatorTokens: config.Tokens{benchOperatorToken}, TemplateTypeName: "Flex HRM", RetryBudget: time.Hour, RetryBaseDelay: time.Second,
		RetryMaxDelay: time.Minute, InlineAttempts: 1, InlineBaseDelay: time.Second, AckWait: time.Minute,
		MaxDeliver: 5, MaxInFlight: 1, Workers: false, OneflowRequestTimeout: time.Second, ShutdownTimeout: 5 * time.Second,
	}, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("start contract-sync: %w", err)
	}
	gw, err := gateway.Start(ctx, gateway.Config{
		Addr: "127.0.0.1:0", EmployeeDirectoryAddr: "127.0.0.1:1", ContractSyncAddr: cs.Addr(),
		DocumentArchiveAddr: "127.0.0.1:1", ShutdownTimeout: 5 * time.Second,
	}, logger)
	if err != nil {
		_ = cs.Close()
		return nil, nil, fmt.Errorf("start gateway: %w", err)
	}
	return cs, gw, nil
}
