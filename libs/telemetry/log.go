package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// NewLogger returns the JSON logger every flexflow process uses: each record
// carries the service name and, when the context holds a span, its trace_id
// and span_id (so a log line leads to its trace in Jaeger), and every message
// and attribute value passes through redactor before it is written.
//
// A nil w writes to os.Stderr; a nil redactor uses NewRedactor (the built-in
// patterns, no registered secrets).
func NewLogger(w io.Writer, service string, level slog.Level, redactor *Redactor) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	if redactor == nil {
		redactor = NewRedactor()
	}
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(NewRedactingHandler(inner, redactor)).With(slog.String("service", service))
}

// RedactingHandler is a slog.Handler that scrubs personal data and secrets
// from the message and from every attribute value (strings, errors,
// fmt.Stringers, slog.LogValuers, nested groups and arbitrary values) before
// handing the record to the next handler. It also adds trace_id and span_id
// from the record's context.
type RedactingHandler struct {
	next     slog.Handler
	redactor *Redactor
}

// NewRedactingHandler wraps next. It panics if next or redactor is nil,
// because a logger that silently stops redacting would leak personal data.
func NewRedactingHandler(next slog.Handler, redactor *Redactor) *RedactingHandler {
	if next == nil || redactor == nil {
		panic("telemetry: NewRedactingHandler needs a handler and a redactor")
	}
	return &RedactingHandler{next: next, redactor: redactor}
}

// Enabled reports whether the next handler handles records at level.
func (h *RedactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle scrubs the record and passes it on.
func (h *RedactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redactor.Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.redactAttr(a))
		return true
	})
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		out.AddAttrs(
			slog.String("trace_id", sc.TraceID().String()),
			slog.String("span_id", sc.SpanID().String()),
		)
	}
	return h.next.Handle(ctx, out)
}

// WithAttrs scrubs attrs once, when they are attached.
func (h *RedactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.redactAttr(a)
	}
	return &RedactingHandler{next: h.next.WithAttrs(clean), redactor: h.redactor}
}

// WithGroup opens a group on the next handler.
func (h *RedactingHandler) WithGroup(name string) slog.Handler {
	return &RedactingHandler{next: h.next.WithGroup(name), redactor: h.redactor}
}

func (h *RedactingHandler) redactAttr(a slog.Attr) slog.Attr {
	a.Value = h.redactValue(a.Value)
	return a
}

// maxValueDepth bounds recursion through LogValuers that return themselves.
const maxValueDepth = 8

func (h *RedactingHandler) redactValue(v slog.Value) slog.Value {
	return h.redactValueDepth(v, 0)
}

func (h *RedactingHandler) redactValueDepth(v slog.Value, depth int) slog.Value {
	if depth > maxValueDepth {
		return slog.StringValue("[REDACTED:too-deep]")
	}
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.redactor.Redact(v.String()))
	case slog.KindInt64:
		return h.redactNumber(v, strconv.FormatInt(v.Int64(), 10))
	case slog.KindUint64:
		return h.redactNumber(v, strconv.FormatUint(v.Uint64(), 10))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, a := range group {
			clean[i] = slog.Attr{Key: a.Key, Value: h.redactValueDepth(a.Value, depth+1)}
		}
		return slog.GroupValue(clean...)
	case slog.KindAny:
		return h.redactAny(v.Any())
	default: // bool, float, duration, time: nothing personal fits in them.
		return v
	}
}

// redactNumber catches a national ID or phone number logged as an integer.
func (h *RedactingHandler) redactNumber(v slog.Value, text string) slog.Value {
	if len(text) < 8 {
		return v
	}
	if clean := h.redactor.Redact(text); clean != text {
		return slog.StringValue(clean)
	}
	return v
}

func (h *RedactingHandler) redactAny(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(h.redactor.Redact(x.Error()))
	case fmt.Stringer:
		return slog.StringValue(h.redactor.Redact(x.String()))
	case []byte:
		return slog.StringValue(h.redactor.Redact(string(x)))
	}
	// Anything else would be marshalled to JSON by the next handler: do that
	// here, scrub the text, and hand over the scrubbed JSON verbatim. When
	// scrubbing broke the JSON (a number turned into a marker), the text is
	// logged as a string instead.
	raw, err := json.Marshal(x)
	if err != nil {
		return slog.StringValue(h.redactor.Redact(fmt.Sprintf("%+v", x)))
	}
	clean := h.redactor.Redact(string(raw))
	if clean == string(raw) {
		return slog.AnyValue(json.RawMessage(raw))
	}
	if json.Valid([]byte(clean)) {
		return slog.AnyValue(json.RawMessage(clean))
	}
	return slog.StringValue(clean)
}
