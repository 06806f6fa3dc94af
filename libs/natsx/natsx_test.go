package natsx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/flexflow/flexflow/libs/natsx"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connectEmbedded(t *testing.T, dir string) *natsx.Conn {
	t.Helper()
	c, err := natsx.Connect(testCtx(t), natsx.Options{DataDir: dir, Name: t.Name(), Logger: discardLogger()})
	if err != nil {
		t.Fatalf("Connect embedded: %v", err)
	}
	return c
}

var webhookStream = jetstream.StreamConfig{
	Name:       "WEBHOOKS",
	Subjects:   []string{"webhooks.>"},
	Storage:    jetstream.FileStorage,
	Duplicates: time.Minute,
}

func TestConnectWithoutURLStartsAnEmbeddedJetStreamServer(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	c := connectEmbedded(t, dir)
	defer func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if c.Server == nil || c.Replicas != 1 {
		t.Fatalf("Server = %v, Replicas = %d; want an embedded server and 1 replica", c.Server, c.Replicas)
	}
	if !strings.HasPrefix(c.Server.StoreDir(), dir) {
		t.Errorf("store dir %s is not under the data dir %s", c.Server.StoreDir(), dir)
	}
	if _, err := natsx.EnsureStream(ctx, c.JS, webhookStream); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JS.Publish(ctx, "webhooks.contract.4711", []byte("hello"), jetstream.WithMsgID("cb-1")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// A resend with the same callback id is recognised as a duplicate.
	ack, err := c.JS.Publish(ctx, "webhooks.contract.4711", []byte("hello"), jetstream.WithMsgID("cb-1"))
	if err != nil || !ack.Duplicate {
		t.Errorf("resend: ack %+v, err %v; want a duplicate", ack, err)
	}

	// The server also listens on loopback TCP, for the nats CLI and tools.
	tcp, err := nats.Connect(c.Server.ClientURL())
	if err != nil {
		t.Fatalf("TCP connect to %s: %v", c.Server.ClientURL(), err)
	}
	defer tcp.Close()
	if !strings.HasPrefix(tcp.ConnectedUrl(), "nats://127.0.0.1:") {
		t.Errorf("embedded server listens on %s, want loopback", tcp.ConnectedUrl())
	}
}

func TestEmbeddedServerKeepsDataAcrossRestarts(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()

	first := connectEmbedded(t, dir)
	if _, err := natsx.EnsureStream(ctx, first.JS, webhookStream); err != nil {
		t.Fatal(err)
	}
	kv, err := natsx.EnsureKV(ctx, first.JS, jetstream.KeyValueConfig{Bucket: "contract_state", Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.JS.Publish(ctx, "webhooks.contract.4711", []byte("stored")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "4711", []byte("draft")); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := connectEmbedded(t, dir)
	defer second.Close()
	stream, err := second.JS.Stream(ctx, "WEBHOOKS")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	msg, err := stream.GetMsg(ctx, 1)
	if err != nil || string(msg.Data) != "stored" {
		t.Errorf("message after restart = %v, %v; want \"stored\"", msg, err)
	}
	kv2, err := second.JS.KeyValue(ctx, "contract_state")
	if err != nil {
		t.Fatalf("bucket after restart: %v", err)
	}
	entry, err := kv2.Get(ctx, "4711")
	if err != nil || string(entry.Value()) != "draft" {
		t.Errorf("kv after restart = %v, %v", entry, err)
	}
}

func TestEnsureFunctionsAreIdempotentAndUpdate(t *testing.T) {
	ctx := testCtx(t)
	c := connectEmbedded(t, t.TempDir())
	defer c.Close()

	// The server tells of every stream update; a restart with the same
	// config must not be one.
	updates, err := c.NC.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.UPDATED.WEBHOOKS")
	if err != nil {
		t.Fatal(err)
	}
	defer updates.Unsubscribe()
	if err := c.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := natsx.EnsureStream(ctx, c.JS, webhookStream); err != nil {
			t.Fatalf("EnsureStream call %d: %v", i+1, err)
		}
	}
	changed := webhookStream
	changed.MaxAge = 72 * time.Hour
	s, err := natsx.EnsureStream(ctx, c.JS, changed)
	if err != nil {
		t.Fatalf("EnsureStream with a new MaxAge: %v", err)
	}
	if got := s.CachedInfo().Config.MaxAge; got != 72*time.Hour {
		t.Errorf("MaxAge = %v, want the updated 72h", got)
	}
	// Advisories arrive in order, so once the change's own is in, any
	// update by the same-config calls would have come before it.
	if _, err := updates.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("no update advisory for the changed config: %v", err)
	}
	if n, _, _ := updates.Pending(); n != 0 {
		t.Errorf("%d more stream updates; ensuring the same config must not update the stream", n)
	}
	if _, err := natsx.EnsureStream(ctx, c.JS, changed); err != nil {
		t.Fatalf("EnsureStream with the changed config again: %v", err)
	}

	consumer := jetstream.ConsumerConfig{
		Durable: "fetch", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxAckPending: 64, FilterSubject: "webhooks.>",
	}
	for i := 0; i < 2; i++ {
		if _, err := natsx.EnsureConsumer(ctx, c.JS, "WEBHOOKS", consumer); err != nil {
			t.Fatalf("EnsureConsumer call %d: %v", i+1, err)
		}
	}
	consumer.MaxAckPending = 128
	cons, err := natsx.EnsureConsumer(ctx, c.JS, "WEBHOOKS", consumer)
	if err != nil {
		t.Fatalf("EnsureConsumer update: %v", err)
	}
	if got := cons.CachedInfo().Config.MaxAckPending; got != 128 {
		t.Errorf("MaxAckPending = %d, want 128", got)
	}
	if _, err := natsx.EnsureConsumer(ctx, c.JS, "WEBHOOKS", jetstream.ConsumerConfig{}); err == nil {
		t.Error("EnsureConsumer without a durable name succeeded")
	}

	bucket := jetstream.KeyValueConfig{Bucket: "callbacks", TTL: 24 * time.Hour, Storage: jetstream.FileStorage}
	for i := 0; i < 2; i++ {
		if _, err := natsx.EnsureKV(ctx, c.JS, bucket); err != nil {
			t.Fatalf("EnsureKV call %d: %v", i+1, err)
		}
	}
	bucket.TTL = 48 * time.Hour
	kv, err := natsx.EnsureKV(ctx, c.JS, bucket)
	if err != nil {
		t.Fatalf("EnsureKV update: %v", err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.TTL() != 48*time.Hour {
		t.Errorf("bucket TTL = %v (%v), want 48h", st.TTL(), err)
	}

	_, err = natsx.EnsureStream(ctx, c.JS, jetstream.StreamConfig{Name: "bad.name"})
	if err == nil || !strings.Contains(err.Error(), "ensure stream bad.name") {
		t.Errorf("invalid stream name: err = %v", err)
	}
}

// TestEnsureIsSafeFromSeveralProcessesAtOnce simulates several services
// starting together against one server, each with its own connection.
func TestEnsureIsSafeFromSeveralProcessesAtOnce(t *testing.T) {
	ctx := testCtx(t)
	c := connectEmbedded(t, t.TempDir())
	defer c.Close()

	const processes = 6
	var wg sync.WaitGroup
	errs := make(chan error, processes)
	// Every process has its stream before any adds a consumer: nats-server
	// 2.15.2 reads the stream's config without its lock when it adds a
	// consumer, and a concurrent update (two versions at once) writes it. The
	// race detector sees that here only because the server runs in the test
	// process; what this test checks is that every Ensure call succeeds.
	var streamsEnsured sync.WaitGroup
	streamsEnsured.Add(processes)
	for i := 0; i < processes; i++ {
		nc, err := nats.Connect(c.Server.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := webhookStream
			if i%2 == 1 { // half of them run a newer version with another limit
				cfg.MaxMsgs = 1000
			}
			_, err := natsx.EnsureStream(ctx, js, cfg)
			streamsEnsured.Done()
			if err != nil {
				errs <- err
				return
			}
			streamsEnsured.Wait()
			if _, err := natsx.EnsureConsumer(ctx, js, "WEBHOOKS", jetstream.ConsumerConfig{Durable: "fetch", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				errs <- err
				return
			}
			if _, err := natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{Bucket: "contract_state"}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent ensure: %v", err)
	}
}

func TestConnectToNATSURL(t *testing.T) {
	ctx := testCtx(t)
	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{DataDir: t.TempDir(), ServerName: "standalone"})
	if err != nil {
		t.Fatalf("RunServer: %v", err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()

	c, err := natsx.Connect(ctx, natsx.Options{URL: srv.ClientURL(), Name: "client", Logger: discardLogger()})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close()
	if c.Server != nil {
		t.Error("Server must be nil for an external server")
	}
	if _, err := natsx.EnsureStream(ctx, c.JS, webhookStream); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestConnectWaitsForAServerThatStartsLater(t *testing.T) {
	ctx := testCtx(t)
	addr := freePort(t)
	type result struct {
		c   *natsx.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := natsx.Connect(ctx, natsx.Options{URL: "nats://" + addr, Logger: discardLogger()})
		done <- result{c, err}
	}()
	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{Listen: addr, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("RunServer: %v", err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	r := <-done
	if r.err != nil {
		t.Fatalf("Connect: %v", r.err)
	}
	r.c.Close()
}

func TestConnectGivesUpWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := natsx.Connect(ctx, natsx.Options{URL: "nats://" + freePort(t), Logger: discardLogger()})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

func TestConnectRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    natsx.Options
		wantErr string
	}{
		{"no_logger", natsx.Options{DataDir: "x"}, "Logger is required"},
		{"embedded_without_data_dir", natsx.Options{Logger: discardLogger()}, "DataDir is required"},
		{"embedded_with_three_replicas", natsx.Options{DataDir: "x", Replicas: 3, Logger: discardLogger()}, "replicas 3 needs NATS_URL"},
		{"bad_embedded_listen", natsx.Options{DataDir: "x", EmbeddedListen: "4222", Logger: discardLogger()}, "want host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := natsx.Connect(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestThreeNodeClusterServesAReplicatedStream(t *testing.T) {
	ctx := testCtx(t)
	routes := []string{freePort(t), freePort(t), freePort(t)}
	var urls []string
	var servers []*server.Server
	for i := range routes {
		srv, err := natsx.RunServer(ctx, natsx.ServerOptions{
			DataDir:       t.TempDir(),
			ServerName:    fmt.Sprintf("n%d", i+1),
			ClusterName:   "flexflow",
			ClusterListen: routes[i],
			Routes:        routes,
		})
		if err != nil {
			t.Fatalf("RunServer n%d: %v", i+1, err)
		}
		defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
		urls = append(urls, srv.ClientURL())
		servers = append(servers, srv)
	}
	// Connect once the meta leader is elected (a few hundred ms), so the test
	// does not spend EnsureStream's first attempt on an unanswered request.
	for !allCurrent(servers) {
		select {
		case <-ctx.Done():
			t.Fatal("cluster did not elect a JetStream meta leader")
		case <-time.After(20 * time.Millisecond):
		}
	}

	c, err := natsx.Connect(ctx, natsx.Options{URL: strings.Join(urls, ","), Replicas: 3, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close()

	cfg := webhookStream
	cfg.Replicas = c.Replicas
	// EnsureStream waits out the meta leader election right after start.
	stream, err := natsx.EnsureStream(ctx, c.JS, cfg)
	if err != nil {
		t.Fatalf("EnsureStream R3: %v", err)
	}
	if got := stream.CachedInfo().Config.Replicas; got != 3 {
		t.Errorf("replicas = %d, want 3", got)
	}
	if _, err := c.JS.Publish(ctx, "webhooks.contract.4711", []byte("replicated")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Errorf("cluster info = %+v, want a leader and two replicas", info.Cluster)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func allCurrent(servers []*server.Server) bool {
	leader := false
	for _, s := range servers {
		if !s.JetStreamIsCurrent() {
			return false
		}
		leader = leader || s.JetStreamIsLeader()
	}
	return leader
}

func TestConnectNoWaitReturnsAtOnceAndConnectsLater(t *testing.T) {
	ctx := testCtx(t)
	addr := freePort(t)
	c, err := natsx.Connect(ctx, natsx.Options{URL: "nats://" + addr, Logger: discardLogger(), NoWait: true})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close()
	if c.NC.IsConnected() {
		t.Fatal("connected to a server that does not exist yet")
	}
	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{Listen: addr, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("RunServer: %v", err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	for !c.NC.IsConnected() {
		select {
		case <-ctx.Done():
			t.Fatal("never connected once the server was up")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
