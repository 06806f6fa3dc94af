package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestServerSpansContinueTheCallersTraceAndAreNamedByRoute(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	var inner trace.SpanContext
	h := traced(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusTeapot)
	}))
	req := httptest.NewRequest(http.MethodGet, "/v1/employees/1001", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("span does not continue the caller's trace: %v parent %v", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	if inner.SpanID() != s.SpanContext().SpanID() {
		t.Fatal("the handler does not run inside the server span")
	}
	if s.Name() != "GET /v1/employees/{employee_number}" || strings.Contains(s.Name(), "1001") || s.SpanKind() != trace.SpanKindServer {
		t.Fatalf("span name %q kind %v", s.Name(), s.SpanKind())
	}
	want := map[attribute.Key]string{"http.route": "/v1/employees/{employee_number}", "http.response.status_code": "418", "http.request.method": "GET"}
	for _, kv := range s.Attributes() {
		if v, ok := want[kv.Key]; ok && kv.Value.Emit() != v {
			t.Errorf("%s = %s, want %s", kv.Key, kv.Value.Emit(), v)
		}
		delete(want, kv.Key)
	}
	if len(want) > 0 {
		t.Errorf("missing attributes %v", want)
	}
}
