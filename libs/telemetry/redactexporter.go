package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// redactingExporter scrubs every span before it leaves the process. The
// instrumentations record what they see (otelhttp puts the full URL with its
// query in url.full, error messages become status descriptions and exception
// events), so scrubbing at export is the one place that catches all of it.
type redactingExporter struct {
	next     sdktrace.SpanExporter
	redactor *Redactor
}

func (e *redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	clean := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		clean[i] = redactedSpan{ReadOnlySpan: s, redactor: e.redactor}
	}
	return e.next.ExportSpans(ctx, clean)
}

func (e *redactingExporter) Shutdown(ctx context.Context) error {
	return e.next.Shutdown(ctx)
}

// redactedSpan presents a span with its texts scrubbed; ids, times and
// numeric attributes pass through unchanged.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	redactor *Redactor
}

func (s redactedSpan) Name() string {
	return s.redactor.Redact(s.ReadOnlySpan.Name())
}

func (s redactedSpan) Attributes() []attribute.KeyValue {
	return redactAttributes(s.redactor, s.ReadOnlySpan.Attributes())
}

func (s redactedSpan) Events() []sdktrace.Event {
	events := s.ReadOnlySpan.Events()
	clean := make([]sdktrace.Event, len(events))
	for i, ev := range events {
		ev.Name = s.redactor.Redact(ev.Name)
		ev.Attributes = redactAttributes(s.redactor, ev.Attributes)
		clean[i] = ev
	}
	return clean
}

func (s redactedSpan) Links() []sdktrace.Link {
	links := s.ReadOnlySpan.Links()
	clean := make([]sdktrace.Link, len(links))
	for i, l := range links {
		l.Attributes = redactAttributes(s.redactor, l.Attributes)
		clean[i] = l
	}
	return clean
}

func (s redactedSpan) Status() sdktrace.Status {
	st := s.ReadOnlySpan.Status()
	st.Description = s.redactor.Redact(st.Description)
	return st
}

func redactAttributes(r *Redactor, attrs []attribute.KeyValue) []attribute.KeyValue {
	if len(attrs) == 0 {
		return attrs
	}
	clean := make([]attribute.KeyValue, len(attrs))
	for i, kv := range attrs {
		switch kv.Value.Type() {
		case attribute.STRING:
			kv.Value = attribute.StringValue(r.Redact(kv.Value.AsString()))
		case attribute.STRINGSLICE:
			values := kv.Value.AsStringSlice()
			for j := range values {
				values[j] = r.Redact(values[j])
			}
			kv.Value = attribute.StringSliceValue(values)
		}
		clean[i] = kv
	}
	return clean
}
