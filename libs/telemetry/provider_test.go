package telemetry_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/flexflow/flexflow/libs/telemetry"
)

// recordingExporter keeps what it was given, also after Shutdown (unlike
// tracetest.InMemoryExporter, which forgets on Shutdown).
type recordingExporter struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (e *recordingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.spans = append(e.spans, spans...)
	return nil
}

func (e *recordingExporter) Shutdown(context.Context) error { return nil }

func (e *recordingExporter) Spans() []sdktrace.ReadOnlySpan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), e.spans...)
}

// clearOTELEnv keeps the developer's environment out of a test.
func clearOTELEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
	} {
		t.Setenv(k, "")
	}
}

func TestSetupExportsRedactedSpansAndFlushesOnShutdown(t *testing.T) {
	clearOTELEnv(t)
	exp := &recordingExporter{}
	redactor := telemetry.NewRedactor()
	redactor.AddSecret("s3cr3t-sign-key")
	p, err := telemetry.Setup(context.Background(), telemetry.Options{
		ServiceName: "contract-sync", ServiceVersion: "1.2.3", Redactor: redactor, Exporter: exp,
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}

	// The global tracer provider is the one instrumentations use.
	_, span := otel.Tracer("test").Start(context.Background(), "lookup anna@example.se")
	span.SetAttributes(
		attribute.String("url.full", "https://flex.example/api/employees?email=anna@example.se"),
		attribute.String("key", "s3cr3t-sign-key"),
		attribute.StringSlice("phones", []string{"+46701234567"}),
		attribute.Int("contract.id", 4711),
	)
	span.AddEvent("exception", trace.WithAttributes(attribute.String("exception.message", "invalid national id 19900312-1234")))
	span.SetStatus(codes.Error, "employee 19900312-1234 not found")
	span.End()

	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	spans := exp.Spans()
	if len(spans) != 1 {
		t.Fatalf("exported %d spans, want 1 (Shutdown must flush the batch)", len(spans))
	}
	got := spans[0]
	text := got.Name() + " " + got.Status().Description
	for _, kv := range got.Attributes() {
		text += " " + kv.Value.Emit()
	}
	for _, ev := range got.Events() {
		for _, kv := range ev.Attributes {
			text += " " + kv.Value.Emit()
		}
	}
	for _, leak := range []string{"anna@example.se", "s3cr3t-sign-key", "46701234567", "19900312-1234"} {
		if strings.Contains(text, leak) {
			t.Errorf("exported span leaks %q: %s", leak, text)
		}
	}
	if !strings.Contains(text, "4711") {
		t.Errorf("numeric attribute lost: %s", text)
	}
	attrs := map[attribute.Key]string{}
	for _, kv := range got.Resource().Attributes() {
		attrs[kv.Key] = kv.Value.Emit()
	}
	if attrs["service.name"] != "contract-sync" || attrs["service.version"] != "1.2.3" {
		t.Errorf("resource = %v, want service.name contract-sync and version 1.2.3", attrs)
	}
	if attrs["telemetry.sdk.language"] != "go" {
		t.Errorf("resource lost the SDK defaults: %v", attrs)
	}
}

func TestSetupLetsTheEnvironmentOverrideTheServiceName(t *testing.T) {
	clearOTELEnv(t)
	t.Setenv("OTEL_SERVICE_NAME", "renamed")
	exp := &recordingExporter{}
	p, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "contract-sync", Exporter: exp})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	_, span := p.Tracer("test").Start(context.Background(), "op")
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, kv := range exp.Spans()[0].Resource().Attributes() {
		if kv.Key == "service.name" && kv.Value.AsString() != "renamed" {
			t.Errorf("service.name = %q, want the OTEL_SERVICE_NAME value", kv.Value.AsString())
		}
	}
}

func TestSetupWithoutEndpointCreatesSpansWithoutExporting(t *testing.T) {
	clearOTELEnv(t)
	p, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "svc"})
	if err != nil {
		t.Fatalf("Setup without endpoint: %v", err)
	}
	_, span := p.Tracer("test").Start(context.Background(), "op")
	if !span.SpanContext().IsValid() {
		t.Error("spans must still carry trace ids for logs and propagation")
	}
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestSetupRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		opts    telemetry.Options
		wantErr string
	}{
		{"missing_service_name", nil, telemetry.Options{}, "ServiceName is required"},
		{"unknown_protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"},
			telemetry.Options{ServiceName: "svc"}, "OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol"},
		{"unknown_exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"},
			telemetry.Options{ServiceName: "svc"}, "OTEL_TRACES_EXPORTER: unsupported exporter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTELEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := telemetry.Setup(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Setup error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// traceCollector is a minimal in-process OTLP receiver for both protocols.
type traceCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *traceCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.names = append(c.names, s.GetName())
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *traceCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.URL.Path != "/v1/traces" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad protobuf", http.StatusBadRequest)
		return
	}
	resp, _ := c.Export(r.Context(), &req)
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *traceCollector) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

func TestSetupExportsOverOTLPFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
	}{
		{"http_protobuf_is_the_default", ""},
		{"grpc_when_asked", "grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTELEnv(t)
			collector := &traceCollector{}
			var endpoint string
			if tt.protocol == "grpc" {
				lis, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				srv := grpc.NewServer()
				collectortrace.RegisterTraceServiceServer(srv, collector)
				go func() { _ = srv.Serve(lis) }()
				t.Cleanup(srv.Stop)
				endpoint = "http://" + lis.Addr().String()
			} else {
				hs := httptest.NewServer(collector)
				t.Cleanup(hs.Close)
				endpoint = hs.URL
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tt.protocol)

			p, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "svc"})
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			_, span := p.Tracer("test").Start(context.Background(), "exported-span")
			span.End()
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if names := collector.Names(); len(names) != 1 || names[0] != "exported-span" {
				t.Errorf("collector received %v, want [exported-span]", names)
			}
		})
	}
}
