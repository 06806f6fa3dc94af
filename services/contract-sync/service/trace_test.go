package service_test

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

func TestOneTraceRunsFromTheWebhookThroughNATSToTheFlowStepsWithoutPersonalData(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	previous := otel.GetTracerProvider()
	otel.SetTracerProvider(tp) // otelgrpc and otelhttp read the global
	t.Cleanup(func() { otel.SetTracerProvider(previous) })

	e := testenv.New(t, testenv.Options{Configure: func(c *service.Config) { c.TracerProvider = tp }})
	id := create(t, e, templateEmail, "1001")
	e.Idle()

	entry := hasStep(e.Sync(id).GetEntries(), "add_participant", 1)
	if entry == nil {
		t.Fatal("no add_participant entry")
	}
	traceID := entry.GetTraceId()
	names := map[string]bool{}
	for _, s := range recorder.Ended() {
		for _, a := range s.Attributes() {
			v := a.Value.Emit()
			if strings.Contains(v, "@") || strings.Contains(v, "+4670") || strings.Contains(v, "Lindström") {
				t.Errorf("span %q attribute %s carries personal data", s.Name(), a.Key)
			}
		}
		if s.SpanContext().TraceID().String() != traceID {
			continue
		}
		names[s.Name()] = true
		if s.Name() == "flow fetch" {
			attrs := map[string]string{}
			for _, a := range s.Attributes() {
				attrs[string(a.Key)] = a.Value.Emit()
			}
			if attrs["oneflow.contract.id"] == "" || attrs["oneflow.event.type"] != "contract:create" || attrs["flexflow.flow"] != "fetch" {
				t.Errorf("flow span attributes = %v", attrs)
			}
		}
	}
	for _, want := range []string{
		"flexflow.contractsync.v1.ContractSyncService/ReceiveOneflowWebhook",
		"contract-sync.handle", "flow fetch", "step add_participant", "step fill_data_fields",
	} {
		if !names[want] {
			t.Errorf("trace %s lacks span %q; has %v", traceID, want, names)
		}
	}
	publish, process, vendor := false, false, false
	for n := range names {
		publish = publish || strings.HasPrefix(n, "publish flexflow.webhooks.")
		process = process || strings.HasPrefix(n, "process flexflow.webhooks.")
		vendor = vendor || strings.HasPrefix(n, "oneflow ")
	}
	if !publish || !process || !vendor {
		t.Errorf("trace lacks the NATS publish (%v), consume (%v) or Oneflow client (%v) span: %v", publish, process, vendor, names)
	}
}
