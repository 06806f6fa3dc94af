package telemetry

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the tracer used when a caller passes none.
const instrumentationName = "github.com/flexflow/flexflow/libs/telemetry"

// messagingSystemNATS is the messaging.system value for NATS; semconv
// v1.43.0 has no constant for it.
var messagingSystemNATS = semconv.MessagingSystemKey.String("nats")

// HeaderCarrier adapts NATS message headers to propagation.TextMapCarrier,
// so trace context travels with a message like it does with an HTTP request.
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	return nats.Header(c).Get(key)
}

// Set replaces the values of key.
func (c HeaderCarrier) Set(key, value string) {
	nats.Header(c).Set(key, value)
}

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectNATS writes the trace context of ctx (traceparent, tracestate,
// baggage) into h using the global propagator. h must not be nil.
func InjectNATS(ctx context.Context, h nats.Header) {
	otel.GetTextMapPropagator().Inject(ctx, HeaderCarrier(h))
}

// ExtractNATS returns ctx carrying the remote trace context found in h.
func ExtractNATS(ctx context.Context, h nats.Header) context.Context {
	if h == nil {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, HeaderCarrier(h))
}

// StartPublishSpan starts a producer span for publishing msg and writes its
// trace context into msg's headers (creating them when nil), so the span
// started by StartConsumeSpan on the other side becomes its child. End the
// span after the publish is acknowledged. A nil tracer uses the global
// tracer provider.
func StartPublishSpan(ctx context.Context, tracer trace.Tracer, msg *nats.Msg) (context.Context, trace.Span) {
	if tracer == nil {
		tracer = otel.Tracer(instrumentationName)
	}
	attrs := []attribute.KeyValue{
		messagingSystemNATS,
		semconv.MessagingOperationTypeSend,
		semconv.MessagingOperationName("publish"),
		semconv.MessagingDestinationName(msg.Subject),
		semconv.MessagingMessageBodySize(len(msg.Data)),
	}
	if msg.Header == nil {
		msg.Header = nats.Header{}
	}
	if id := msg.Header.Get(jetstream.MsgIDHeader); id != "" {
		attrs = append(attrs, semconv.MessagingMessageID(id))
	}
	ctx, span := tracer.Start(ctx, "publish "+msg.Subject,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attrs...),
	)
	InjectNATS(ctx, msg.Header)
	return ctx, span
}

// StartConsumeSpan starts a consumer span for processing msg, as a child of
// the producer span whose context the message headers carry. End it when the
// message is acked, nacked or terminated. A nil tracer uses the global tracer
// provider.
func StartConsumeSpan(ctx context.Context, tracer trace.Tracer, msg jetstream.Msg) (context.Context, trace.Span) {
	if tracer == nil {
		tracer = otel.Tracer(instrumentationName)
	}
	headers := msg.Headers()
	ctx = ExtractNATS(ctx, headers)
	attrs := []attribute.KeyValue{
		messagingSystemNATS,
		semconv.MessagingOperationTypeProcess,
		semconv.MessagingOperationName("process"),
		semconv.MessagingDestinationName(msg.Subject()),
		semconv.MessagingMessageBodySize(len(msg.Data())),
	}
	if id := headers.Get(jetstream.MsgIDHeader); id != "" {
		attrs = append(attrs, semconv.MessagingMessageID(id))
	}
	if md, err := msg.Metadata(); err == nil {
		attrs = append(attrs,
			semconv.MessagingConsumerGroupName(md.Consumer),
			attribute.String("messaging.nats.stream", md.Stream),
			attribute.Int64("messaging.nats.stream_sequence", int64(md.Sequence.Stream)),
			attribute.Int64("messaging.nats.delivered", int64(md.NumDelivered)),
		)
	}
	return tracer.Start(ctx, "process "+msg.Subject(),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attrs...),
	)
}
