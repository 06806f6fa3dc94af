package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/flexflow/flexflow/libs/telemetry"
)

type employee struct {
	Name  string
	Email string
	Phone string
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type logValuer struct{ email string }

func (l logValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", l.email))
}

func TestLoggerRedactsMessagesAndAttributes(t *testing.T) {
	t.Parallel()
	const token = "tok_0123456789abcdef0123"
	tests := []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"message", func(l *slog.Logger) { l.Info("employee anna@example.se has 19900312-1234") }},
		{"string_attribute", func(l *slog.Logger) { l.Info("lookup", "email", "anna@example.se", "pnr", "19900312-1234") }},
		{"error_attribute", func(l *slog.Logger) {
			l.Error("flex failed", "error", fmt.Errorf("update employee: %w", errors.New("invalid phone +46701234567")))
		}},
		{"stringer_attribute", func(l *slog.Logger) { l.Info("x", "who", stringer{"anna@example.se"}) }},
		{"log_valuer_attribute", func(l *slog.Logger) { l.Info("x", "manager", logValuer{"anna@example.se"}) }},
		{"nested_group", func(l *slog.Logger) {
			l.Info("x", slog.Group("employee", slog.Group("contact", slog.String("mobile", "070-123 45 67"))))
		}},
		{"struct_attribute", func(l *slog.Logger) {
			l.Info("x", "employee", employee{Name: "Anna", Email: "anna@example.se", Phone: "+46701234567"})
		}},
		{"map_attribute", func(l *slog.Logger) { l.Info("x", "fields", map[string]any{"nationalId": "199003121234"}) }},
		{"integer_attribute", func(l *slog.Logger) { l.Info("x", "pnr", int64(199003121234)) }},
		{"bytes_attribute", func(l *slog.Logger) { l.Info("x", "body", []byte(`{"email":"anna@example.se"}`)) }},
		{"with_attributes", func(l *slog.Logger) { l.With("email", "anna@example.se").Info("x") }},
		{"with_group", func(l *slog.Logger) { l.WithGroup("req").Info("x", "phone", "+46 70 123 45 67") }},
		{"registered_secret", func(l *slog.Logger) { l.Info("calling with Bearer "+token, "header", "Bearer "+token) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			r := telemetry.NewRedactor()
			r.AddSecret(token)
			tt.log(telemetry.NewLogger(&buf, "test-service", slog.LevelDebug, r))
			out := buf.String()
			for _, leak := range []string{"anna@example.se", "19900312-1234", "199003121234", "46701234567", "+46 70", "070-123", token} {
				if strings.Contains(out, leak) {
					t.Errorf("log line leaks %q: %s", leak, out)
				}
			}
			if !strings.Contains(out, "[REDACTED:") {
				t.Errorf("log line has no redaction marker: %s", out)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line is not JSON: %v: %s", err, out)
			}
			if line["service"] != "test-service" {
				t.Errorf("service = %v, want test-service", line["service"])
			}
		})
	}
}

func TestLoggerKeepsOrdinaryValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := telemetry.NewLogger(&buf, "svc", slog.LevelInfo, nil)
	logger.Info("contract published", "contract_id", 4711, "callback_id", "550e8400-e29b-41d4-a716-446655440000",
		"attempt", 3, "ok", true, "payload", map[string]int{"count": 2})
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	if line["contract_id"] != float64(4711) || line["callback_id"] != "550e8400-e29b-41d4-a716-446655440000" || line["ok"] != true {
		t.Errorf("ordinary values changed: %s", buf.String())
	}
	if payload, ok := line["payload"].(map[string]any); !ok || payload["count"] != float64(2) {
		t.Errorf("payload not kept as JSON object: %s", buf.String())
	}
}

func TestLoggerAddsTraceIDsFromContext(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()

	var buf bytes.Buffer
	telemetry.NewLogger(&buf, "svc", slog.LevelInfo, nil).InfoContext(ctx, "hello")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	if line["trace_id"] != span.SpanContext().TraceID().String() || line["span_id"] != span.SpanContext().SpanID().String() {
		t.Errorf("trace ids missing or wrong: %s", buf.String())
	}
}

func TestLoggerRespectsLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := telemetry.NewLogger(&buf, "svc", slog.LevelWarn, nil)
	logger.Info("not written")
	if buf.Len() != 0 {
		t.Errorf("info written at warn level: %s", buf.String())
	}
}
