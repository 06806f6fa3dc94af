package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Options configure Setup. The exporter itself is configured by the standard
// OTEL_* environment variables, not here.
type Options struct {
	// ServiceName becomes the resource's service.name (required).
	ServiceName string
	// ServiceVersion becomes service.version when not empty.
	ServiceVersion string
	// Redactor scrubs span names, attributes, events and status messages
	// before export. Nil uses NewRedactor (built-in patterns only); pass the
	// service's shared Redactor so registered secrets are scrubbed too.
	Redactor *Redactor
	// Logger receives OpenTelemetry's internal errors (an unreachable
	// collector, dropped spans). Nil leaves OpenTelemetry's default handler.
	Logger *slog.Logger
	// Exporter replaces the exporter chosen from the environment; tests pass
	// an in-memory exporter here.
	Exporter sdktrace.SpanExporter
}

// Provider is the process's tracer provider. Call Shutdown before the
// process exits: the batch processor holds spans in memory and loses them
// otherwise.
type Provider struct {
	*sdktrace.TracerProvider
}

// Shutdown flushes the spans still queued and stops the exporter. ctx bounds
// how long the flush may take.
func (p *Provider) Shutdown(ctx context.Context) error {
	if err := p.TracerProvider.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: shutdown tracer provider: %w", err)
	}
	return nil
}

// Setup builds the tracer provider from the standard OTEL_* variables:
//
//   - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT: where
//     to send spans. Neither set: spans are still created (trace ids reach the
//     logs and NATS headers) but not exported, and that is not an error.
//   - OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL: "grpc"
//     or "http/protobuf" (the specification's default).
//   - OTEL_TRACES_EXPORTER: "otlp" (default) or "none"; OTEL_SDK_DISABLED=true
//     also turns export off.
//   - OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_*,
//     OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _INSECURE, ...: read by the SDK and
//     the otlptrace exporters themselves.
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the resource.
//
// Setup also installs the provider and the W3C TraceContext+Baggage
// propagator as the OpenTelemetry globals, because the otelgrpc and otelhttp
// instrumentations (GRPCServerOptions, HTTPTransport, ...) read the globals.
func Setup(ctx context.Context, opts Options) (*Provider, error) {
	if opts.ServiceName == "" {
		return nil, errors.New("telemetry: ServiceName is required")
	}
	redactor := opts.Redactor
	if redactor == nil {
		redactor = NewRedactor()
	}
	res, err := newResource(opts.ServiceName, opts.ServiceVersion)
	if err != nil {
		return nil, err
	}

	exporter := opts.Exporter
	if exporter == nil {
		exporter, err = exporterFromEnv(ctx)
		if err != nil {
			return nil, err
		}
	}

	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if exporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(&redactingExporter{next: exporter, redactor: redactor}))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)

	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator())
	if opts.Logger != nil {
		logger := opts.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("opentelemetry error", slog.Any("error", err))
		}))
	}
	return &Provider{TracerProvider: tp}, nil
}

// Propagator is the W3C TraceContext and Baggage propagator flexflow uses on
// every hop (HTTP, gRPC, NATS headers).
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// newResource merges the SDK defaults with service.name/version. Both sides
// use semconv v1.43.0 (the SDK's own), so their schema URLs agree; the
// environment (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) is merged last so
// an operator can override.
func newResource(name, version string) (*resource.Resource, error) {
	kvs := []attribute.KeyValue{semconv.ServiceName(name)}
	if version != "" {
		kvs = append(kvs, semconv.ServiceVersion(version))
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, kvs...))
	if err != nil {
		return nil, fmt.Errorf("telemetry: build resource: %w", err)
	}
	res, err = resource.Merge(res, resource.Environment())
	if err != nil {
		return nil, fmt.Errorf("telemetry: merge OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return res, nil
}

// exporterFromEnv returns nil (no export) when no endpoint is configured or
// export is turned off.
func exporterFromEnv(ctx context.Context) (sdktrace.SpanExporter, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	switch kind := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); kind {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER: unsupported exporter %q (use otlp or none)", kind)
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return nil, nil
	}
	protocolVar := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	protocol := strings.TrimSpace(os.Getenv(protocolVar))
	if protocol == "" {
		protocolVar = "OTEL_EXPORTER_OTLP_PROTOCOL"
		protocol = strings.TrimSpace(os.Getenv(protocolVar))
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	default:
		return nil, fmt.Errorf("telemetry: %s: unsupported protocol %q (use grpc or http/protobuf)", protocolVar, protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: create OTLP %s exporter: %w", protocolOrDefault(protocol), err)
	}
	return exp, nil
}

func protocolOrDefault(p string) string {
	if p == "" {
		return "http/protobuf"
	}
	return p
}
