package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	gateway "github.com/flexflow/flexflow/gateway/service"
	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/oneflow"
)

// ClusterOptions size the scaled-out webhook-ack scenario.
type ClusterOptions struct {
	// Rounds of every variant; per-round ratios are reported as a median.
	Rounds      int
	Duration    time.Duration
	Concurrency int
	Partitions  int
	Logger      *slog.Logger
}

// ClusterResult is what the scaled-out scenario measured.
type ClusterResult struct {
	// JetStream is plain synchronous publishes to a stream with 3 replicas
	// on the same cluster (the floor); Flexflow is the median round through
	// two gateways, each in front of its own contract-sync.
	JetStream, Flexflow Result
	// PerReplica counts the webhooks each contract-sync acknowledged.
	PerReplica [2]int64
	// Acked counts webhooks answered 200 in every round; Stored the
	// messages the webhook stream holds at the end (its replicas agreeing);
	// Lost is acked and not stored; Errors answers other than 200.
	Acked, Stored, Lost, Errors int64
	// Replicas is the webhook stream's replica count as the cluster reports.
	Replicas int
}

// ClusterScenario measures webhook acks with contract-sync scaled to two
// replicas against a 3-node NATS cluster (three embedded servers on
// loopback, streams and KV buckets with 3 replicas): two gateways, each in
// front of its own contract-sync, and the load generator alternating between
// them, against plain JetStream publishes to a 3-replica stream on the same
// cluster. At the end every acknowledged webhook must be in the stream.
func ClusterScenario(ctx context.Context, o ClusterOptions) (ClusterResult, error) {
	var res ClusterResult
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "flexflow-bench-cluster-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	servers, err := startCluster(ctx, dir)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, s := range servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}()
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.ClientURL()
	}
	natsURL := strings.Join(urls, ",")

	var gws [2]*gateway.Gateway
	for i := range 2 {
		// Each replica dials its own node first, as pods spread over
		// nodes would.
		own := []string{urls[i]}
		for j, u := range urls {
			if j != i {
				own = append(own, u)
			}
		}
		cs, gw, err := startIngestEdge(ctx, strings.Join(own, ","), 3, filepath.Join(dir, "cs"+strconv.Itoa(i)), o.Partitions, logger)
		if err != nil {
			return res, fmt.Errorf("replica %d: %w", i+1, err)
		}
		defer cs.Close()
		gws[i] = gw
		defer gws[i].Close()
	}

	nc, err := nats.Connect(natsURL)
	if err != nil {
		return res, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, err
	}
	// The baseline's own stream, configured like the webhook stream.
	if _, err := natsx.EnsureStream(ctx, js, jetstream.StreamConfig{
		Name: "BENCH_R3", Subjects: []string{"bench.r3.>"}, Retention: jetstream.LimitsPolicy,
		MaxAge: time.Hour, Duplicates: time.Hour, Storage: jetstream.FileStorage, Replicas: 3,
	}); err != nil {
		return res, fmt.Errorf("baseline stream: %w", err)
	}

	var seq atomic.Int64
	next := func() (string, int64) {
		n := seq.Add(1)
		return "cluster-" + strconv.FormatInt(n, 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), n%5000 + 1
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2, MaxConnsPerHost: o.Concurrency * 2}}
	var acked, errs atomic.Int64
	var perReplica [2]atomic.Int64
	var turn atomic.Int64
	flexflow := func(ctx context.Context) error {
		cb, contract := next()
		body := fmt.Sprintf(`{"contract":{"id":%d},"callback_id":%q,"signature":%q,"events":[{"id":%d,"type":"contract:publish","created_time":"2026-05-02T10:15:30+00:00"}]}`,
			contract, cb, oneflow.Sign(cb, signKey), contract)
		i := turn.Add(1) % 2
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gws[i].URL()+"/v1/webhooks/oneflow", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				errs.Add(1)
			}
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			errs.Add(1)
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		acked.Add(1)
		perReplica[i].Add(1)
		return nil
	}
	jsPublish := func(ctx context.Context) error {
		cb, contract := next()
		_, err := js.Publish(ctx, "bench.r3."+strconv.FormatInt(contract, 10), []byte(cb), jetstream.WithMsgID(cb))
		return err
	}

	rounds := max(o.Rounds, 1)
	var jsRuns, ffRuns []Result
	ratios := make([]float64, 0, rounds)
	for round := range rounds {
		var j, f Result
		if round%2 == 0 {
			j = load(ctx, "plain JetStream publish (sync, 3 replicas)", o.Concurrency, o.Duration, jsPublish)
			f = load(ctx, "flexflow ×2 (2 gateways → 2 contract-sync → 3-node JetStream)", o.Concurrency, o.Duration, flexflow)
		} else {
			f = load(ctx, "flexflow ×2 (2 gateways → 2 contract-sync → 3-node JetStream)", o.Concurrency, o.Duration, flexflow)
			j = load(ctx, "plain JetStream publish (sync, 3 replicas)", o.Concurrency, o.Duration, jsPublish)
		}
		jsRuns, ffRuns = append(jsRuns, j), append(ffRuns, f)
		ratios = append(ratios, f.PerSecond/j.PerSecond)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	sort.Float64s(ratios)
	res.JetStream, res.Flexflow = median(jsRuns), median(ffRuns)
	res.Flexflow.VsJetStream = ratios[len(ratios)/2]
	res.Flexflow.RatioSpread = [2]float64{ratios[0], ratios[len(ratios)-1]}
	res.JetStream.VsJetStream = 1
	res.Acked, res.Errors = acked.Load(), errs.Load()
	res.PerReplica = [2]int64{perReplica[0].Load(), perReplica[1].Load()}

	// Nothing lost: the stream holds every acknowledged webhook, on every
	// replica once they have caught up.
	stream, err := js.Stream(ctx, "FLEXFLOW_WEBHOOKS")
	if err != nil {
		return res, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := stream.Info(ctx)
		if err != nil {
			return res, err
		}
		res.Stored = int64(info.State.Msgs)
		res.Replicas = info.Config.Replicas
		current := info.Cluster != nil && len(info.Cluster.Replicas) == info.Config.Replicas-1
		if info.Cluster != nil {
			for _, r := range info.Cluster.Replicas {
				current = current && r.Current && r.Lag == 0
			}
		}
		if current || time.Now().After(deadline) {
			if !current {
				return res, errors.New("the webhook stream's replicas did not catch up within 30s")
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	res.Lost = max(0, res.Acked-res.Stored)
	return res, nil
}

// startCluster runs three JetStream servers on loopback routed to each other
// and waits until the cluster has a meta leader.
func startCluster(ctx context.Context, dir string) ([]*server.Server, error) {
	var routes []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		routes = append(routes, l.Addr().String())
		_ = l.Close()
	}
	var servers []*server.Server
	for i := range 3 {
		s, err := natsx.RunServer(ctx, natsx.ServerOptions{
			DataDir: filepath.Join(dir, "n"+strconv.Itoa(i+1)), ServerName: "bench-n" + strconv.Itoa(i+1),
			ClusterName: "bench", ClusterListen: routes[i], Routes: routes,
		})
		if err != nil {
			for _, s := range servers {
				s.Shutdown()
			}
			return nil, fmt.Errorf("nats node %d: %w", i+1, err)
		}
		servers = append(servers, s)
	}
	nc, err := nats.Connect(servers[0].ClientURL())
	if err != nil {
		return servers, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return servers, err
	}
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, last = js.AccountInfo(actx)
		cancel()
		if last == nil {
			return servers, nil
		}
	}
	return servers, fmt.Errorf("the 3-node cluster did not elect a JetStream leader: %w", last)
}

// ClusterMarkdown is the scaled-out scenario's section, with the
// single-node figures of the ack scenario beside it when that ran.
func ClusterMarkdown(r ClusterResult, ack []Result) string {
	var b strings.Builder
	b.WriteString("## Webhook ack, contract-sync ×2 on a 3-node NATS cluster\n\n")
	b.WriteString("Three embedded NATS servers routed on loopback (one JetStream cluster), every stream and KV bucket with 3 replicas; two contract-sync instances, each behind its own gateway, the load generator alternating between the gateways; the baseline publishes synchronously to a 3-replica stream on the same cluster. Rounds alternate the variants; throughput and latency are the median round, the ratio the median of per-round ratios. Everything shares this machine's CPUs, so the cluster's consensus work competes with the services.\n\n")
	b.WriteString("| setup | path | acks/s | p50 | p99 | errors | vs JetStream publish on the same NATS |\n|---|---|---:|---:|---:|---:|---:|\n")
	if len(ack) == 3 {
		fmt.Fprintf(&b, "| single node (ack scenario above) | %s | %.0f | %s | %s | %d | %.2f |\n", ack[2].Name, ack[2].PerSecond,
			ack[2].P50.Round(10*time.Microsecond), ack[2].P99.Round(10*time.Microsecond), ack[2].Errors, ack[2].VsJetStream)
		fmt.Fprintf(&b, "| single node | %s | %.0f | %s | %s | %d | 1.00 |\n", ack[0].Name, ack[0].PerSecond,
			ack[0].P50.Round(10*time.Microsecond), ack[0].P99.Round(10*time.Microsecond), ack[0].Errors)
	}
	for _, x := range []Result{r.Flexflow, r.JetStream} {
		fmt.Fprintf(&b, "| 3-node cluster, replicas %d | %s | %.0f | %s | %s | %d | %.2f |\n", r.Replicas, x.Name, x.PerSecond,
			x.P50.Round(10*time.Microsecond), x.P99.Round(10*time.Microsecond), x.Errors, x.VsJetStream)
	}
	b.WriteString("\n")
	if len(ack) == 3 && ack[2].PerSecond > 0 {
		fmt.Fprintf(&b, "Scaled out: **%.0f acks/s** against %.0f single-node (×%.2f); %.2f of JetStream's own rate on the cluster (rounds ranged %.2f–%.2f).\n\n",
			r.Flexflow.PerSecond, ack[2].PerSecond, r.Flexflow.PerSecond/ack[2].PerSecond, r.Flexflow.VsJetStream, r.Flexflow.RatioSpread[0], r.Flexflow.RatioSpread[1])
	}
	fmt.Fprintf(&b, "| check | value |\n|---|---:|\n| webhooks acknowledged (200), all rounds | %d |\n| of them through replica 1 / replica 2 | %d / %d |\n| messages in FLEXFLOW_WEBHOOKS (replicas caught up) | %d |\n| acknowledged but not stored | **%d** |\n| stored but not acknowledged (in flight when a round's sender gave up) | %d |\n| answers other than 200 | %d |\n\n",
		r.Acked, r.PerReplica[0], r.PerReplica[1], r.Stored, r.Lost, max(0, r.Stored-r.Acked), r.Errors)
	return b.String()
}
