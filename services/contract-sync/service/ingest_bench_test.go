package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/flexflow/flexflow/libs/oneflow"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

// latencies collects per-call durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkWebhookIngest compares contract-sync's ReceiveOneflowWebhook
// (gRPC on loopback, signature check, JetStream publish with Nats-Msg-Id,
// PubAck) with two baselines on the same NATS server in the same run: plain
// synchronous JetStream publishes, and a minimal single-process HTTP edge
// (decode JSON, check the signature, publish). Workers are off: only the
// ingest path is measured. Compare webhooks/s across the sub-benchmarks.
func BenchmarkWebhookIngest(b *testing.B) {
	e := testenv.New(b, testenv.Options{Configure: func(c *service.Config) { c.Workers = false }})
	key := e.Oneflow.SignKey()
	var seq atomic.Int64
	notification := func(prefix string) (string, int64) {
		n := seq.Add(1)
		return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), n), 1000 + n%5000
	}

	b.Run("jetstream-publish", func(b *testing.B) {
		var lat latencies
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cb, id := notification("js")
				data, _ := proto.Marshal(&contractsyncv1.ReceiveOneflowWebhookRequest{
					Contract: &contractsyncv1.OneflowContractRef{Id: id}, CallbackId: cb,
					Events: []*contractsyncv1.OneflowEvent{{Id: 1, Type: "contract:sign"}},
				})
				t0 := time.Now()
				if _, err := e.JS.Publish(context.Background(), domain.WebhookSubject(id, testenv.Partitions), data, jetstream.WithMsgID(cb)); err != nil {
					b.Error(err)
					return
				}
				lat.add(time.Since(t0))
			}
		})
		lat.report(b, time.Since(start))
	})

	b.Run("minimal-edge", func(b *testing.B) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			n, err := oneflow.DecodeNotification(body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if !oneflow.VerifySignature(n.CallbackID, n.Signature, key) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			req := testenv.ToRequest(n)
			req.Signature = ""
			data, _ := proto.Marshal(req)
			msg := &nats.Msg{Subject: domain.WebhookSubject(n.Contract.ID, testenv.Partitions), Data: data, Header: nats.Header{}}
			msg.Header.Set(jetstream.MsgIDHeader, n.CallbackID)
			if _, err := e.JS.PublishMsg(r.Context(), msg); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})}
		go func() { _ = srv.Serve(lis) }()
		defer srv.Close()
		url := "http://" + lis.Addr().String() + "/"
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		var lat latencies
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cb, id := notification("edge")
				body, _ := json.Marshal(map[string]any{
					"contract": map[string]any{"id": id}, "callback_id": cb, "signature": oneflow.Sign(cb, key),
					"events": []map[string]any{{"id": 1, "type": "contract:sign", "created_time": "2026-05-02T10:15:30+00:00"}},
				})
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat.add(time.Since(t0))
			}
		})
		lat.report(b, time.Since(start))
	})

	b.Run("contract-sync-grpc", func(b *testing.B) {
		var lat latencies
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cb, id := notification("grpc")
				req := &contractsyncv1.ReceiveOneflowWebhookRequest{
					Contract: &contractsyncv1.OneflowContractRef{Id: id}, CallbackId: cb, Signature: oneflow.Sign(cb, key),
					Events: []*contractsyncv1.OneflowEvent{{Id: 1, Type: "contract:sign", CreatedTime: "2026-05-02T10:15:30+00:00"}},
				}
				t0 := time.Now()
				if _, err := e.Client.ReceiveOneflowWebhook(context.Background(), req); err != nil {
					b.Error(err)
					return
				}
				lat.add(time.Since(t0))
			}
		})
		lat.report(b, time.Since(start))
	})
}
