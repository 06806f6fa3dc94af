package telemetry_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/flexflow/flexflow/libs/telemetry"
)

// startJetStream runs an embedded JetStream server for one test.
func startJetStream(t *testing.T) *nats.Conn {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatalf("new nats server: %v", err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestHeaderCarrierRoundTripsTraceContext(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()

	h := nats.Header{}
	telemetry.Propagator().Inject(ctx, telemetry.HeaderCarrier(h))
	if h.Get("traceparent") == "" {
		t.Fatalf("traceparent not injected: %v", h)
	}
	if keys := telemetry.HeaderCarrier(h).Keys(); len(keys) == 0 {
		t.Error("Keys lists nothing")
	}
	got := trace.SpanContextFromContext(telemetry.Propagator().Extract(context.Background(), telemetry.HeaderCarrier(h)))
	if got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() || !got.IsRemote() {
		t.Errorf("extracted %v, want remote %v", got, span.SpanContext())
	}
}

var _ propagation.TextMapCarrier = telemetry.HeaderCarrier(nil)

// TestConsumeSpanIsChildOfPublishSpanAcrossJetStream is the acceptance check
// of issue 2: a span started before publish is the parent of the span
// started from the consumed message.
func TestConsumeSpanIsChildOfPublishSpanAcrossJetStream(t *testing.T) {
	// Not parallel: the NATS helpers use the global propagator.
	clearOTELEnv(t)
	exp := tracetest.NewInMemoryExporter()
	p, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "carrier-test", Exporter: exp})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	tracer := p.Tracer("carrier-test")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(startJetStream(t))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"}})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}

	// Producer: a request span, then the publish span inside it.
	reqCtx, reqSpan := tracer.Start(ctx, "webhook")
	msg := &nats.Msg{Subject: "events.contract.4711", Data: []byte("payload")}
	msg.Header = nats.Header{}
	msg.Header.Set(jetstream.MsgIDHeader, "callback-1")
	_, pubSpan := telemetry.StartPublishSpan(reqCtx, tracer, msg)
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatalf("publish: %v", err)
	}
	pubSpan.End()
	reqSpan.End()

	// Consumer: a durable pull consumer in the same process, with a fresh
	// context that knows nothing of the producer.
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "archive", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	got, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	_, consSpan := telemetry.StartConsumeSpan(context.Background(), tracer, got)
	if err := got.DoubleAck(ctx); err != nil {
		t.Fatalf("ack: %v", err)
	}
	consSpan.End()

	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		spans[s.Name] = s
	}
	pub, ok := spans["publish events.contract.4711"]
	if !ok {
		t.Fatalf("no publish span in %v", exp.GetSpans())
	}
	cons2, ok := spans["process events.contract.4711"]
	if !ok {
		t.Fatalf("no process span in %v", exp.GetSpans())
	}
	if cons2.SpanContext.TraceID() != pub.SpanContext.TraceID() {
		t.Errorf("consumer trace %s, producer trace %s: not one trace", cons2.SpanContext.TraceID(), pub.SpanContext.TraceID())
	}
	if cons2.Parent.SpanID() != pub.SpanContext.SpanID() {
		t.Errorf("consumer parent %s, want producer span %s", cons2.Parent.SpanID(), pub.SpanContext.SpanID())
	}
	if pub.Parent.SpanID() != spans["webhook"].SpanContext.SpanID() {
		t.Errorf("publish span's parent is not the request span")
	}
	if pub.SpanKind != trace.SpanKindProducer || cons2.SpanKind != trace.SpanKindConsumer {
		t.Errorf("kinds = %v/%v, want producer/consumer", pub.SpanKind, cons2.SpanKind)
	}
	wantAttrs := map[string]string{
		"messaging.system": "nats", "messaging.destination.name": "events.contract.4711",
		"messaging.message.id": "callback-1", "messaging.consumer.group.name": "archive",
		"messaging.operation.type": "process",
	}
	gotAttrs := map[string]string{}
	for _, kv := range cons2.Attributes {
		gotAttrs[string(kv.Key)] = kv.Value.Emit()
	}
	for k, v := range wantAttrs {
		if gotAttrs[k] != v {
			t.Errorf("consumer attribute %s = %q, want %q", k, gotAttrs[k], v)
		}
	}
}
