package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/deploy/internal/demo"
	"github.com/flexflow/flexflow/deploy/internal/runner"
	"github.com/flexflow/flexflow/deploy/internal/stack"
)

// TestOneWebhookIsOneTraceInJaegerAndNothingPersonalLeaks starts a real
// Jaeger and the whole system as `make run` does (separate processes), plays
// one contract's life, and reads Jaeger's query API as an SRE would.
func TestOneWebhookIsOneTraceInJaegerAndNothingPersonalLeaks(t *testing.T) {
	bin := binDir(t, "jaeger", "flexflow-nats", "flexhrm-sandbox", "oneflow-sandbox",
		"employee-directory", "contract-sync", "document-archive", "gateway")
	j := startJaeger(t, bin)
	ctx := contextWithTimeout(t, 4*time.Minute)

	env := map[string]string{
		"GATEWAY_ADDR":                freeAddr(t),
		"EMPLOYEE_DIRECTORY_ADDR":     freeAddr(t),
		"CONTRACT_SYNC_ADDR":          freeAddr(t),
		"DOCUMENT_ARCHIVE_ADDR":       freeAddr(t),
		"FLEXFLOW_NATS_LISTEN":        freeAddr(t),
		"FLEXHRM_SANDBOX_LISTEN":      freeAddr(t),
		"ONEFLOW_SANDBOX_LISTEN":      freeAddr(t),
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + j.otlpHTTP,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_BSP_SCHEDULE_DELAY":     "100",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	dataDir := t.TempDir()
	secrets, err := runner.LoadOrCreateSecrets(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runner.Build(runner.Inputs{Env: env, BinDir: bin, DataDir: dataDir, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	var st stack.Stack
	for _, spec := range plan.Specs {
		st.Add(stack.NewProcess(spec, logs))
	}
	if err := st.Start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = st.Stop(10 * time.Second)
		}
	})

	res, err := demo.Play(ctx, demo.Config{
		OneflowSandboxURL:   "http://" + env["ONEFLOW_SANDBOX_LISTEN"],
		FlexSandboxURL:      "http://" + env["FLEXHRM_SANDBOX_LISTEN"],
		ContractSyncAddr:    env["CONTRACT_SYNC_ADDR"],
		DocumentArchiveAddr: env["DOCUMENT_ARCHIVE_ADDR"],
		OperatorToken:       strings.Split(secrets["OPERATOR_TOKENS"], ",")[0],
		TemplateID:          11,
		EmployeeNumber:      "1001",
		Timeout:             60 * time.Second,
	})
	if err != nil {
		t.Fatalf("one contract's life: %v\n%s", err, logs.String())
	}
	// A graceful stop flushes every service's batch of spans.
	if err := st.Stop(20 * time.Second); err != nil {
		t.Errorf("stopping the stack: %v", err)
	}
	stopped = true

	contract := fmt.Sprint(res.ContractID)
	var all []jaegerTrace
	deadline := time.Now().Add(20 * time.Second)
	for {
		all = all[:0]
		seen := map[string]bool{}
		for _, svc := range j.services(t) {
			for _, tr := range j.traces(t, svc) {
				if !seen[tr.TraceID] {
					seen[tr.TraceID] = true
					all = append(all, tr)
				}
			}
		}
		if findTrace(all, contract, "contract:publish") != nil && findTrace(all, contract, "contract:create") != nil &&
			hasService(findTrace(all, contract, "contract:publish"), "document-archive") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger has no complete traces for contract %s; services %v", contract, j.services(t))
		}
		time.Sleep(300 * time.Millisecond)
	}

	t.Run("the_publish_webhook_is_one_trace_across_every_hop", func(t *testing.T) {
		tr := findTrace(all, contract, "contract:publish")
		for _, svc := range []string{"gateway", "contract-sync", "document-archive"} {
			if !hasService(tr, svc) {
				t.Errorf("publish trace lacks spans of %s; it has %v", svc, serviceNames(tr))
			}
		}
		if !hasTag(tr, "messaging.system", "") {
			t.Error("publish trace lacks the NATS hop (no span with messaging.system)")
		}
		if !touches(tr, env["ONEFLOW_SANDBOX_LISTEN"]) {
			t.Error("publish trace lacks an HTTP call to Oneflow")
		}
		if !touches(tr, env["FLEXHRM_SANDBOX_LISTEN"]) {
			t.Error("publish trace lacks an HTTP call to Flex HRM")
		}
	})
	t.Run("the_fetch_webhook_trace_includes_employee_directory_and_flex_hrm", func(t *testing.T) {
		tr := findTrace(all, contract, "contract:create")
		if !hasService(tr, "employee-directory") {
			t.Errorf("fetch trace lacks employee-directory; it has %v", serviceNames(tr))
		}
		if !touches(tr, env["FLEXHRM_SANDBOX_LISTEN"]) {
			t.Error("fetch trace lacks an HTTP call to Flex HRM")
		}
		if !touches(tr, env["ONEFLOW_SANDBOX_LISTEN"]) {
			t.Error("fetch trace lacks an HTTP call to Oneflow")
		}
	})
	t.Run("an_sre_finds_the_contract_and_each_steps_outcome", func(t *testing.T) {
		tr := findTrace(all, contract, "contract:create")
		if !hasTag(tr, "flexflow.step.outcome", "") {
			t.Error("no span carries flexflow.step.outcome")
		}
		if !hasTag(tr, "oneflow.event.type", "contract:create") {
			t.Error("no span carries oneflow.event.type")
		}
	})
	t.Run("no_personal_data_or_secret_in_spans_or_service_logs", func(t *testing.T) {
		forbidden := personalData(t)
		creds := runner.FlexSandboxCredentials
		decoded, _ := base64.StdEncoding.DecodeString(creds)
		_, password, _ := strings.Cut(strings.SplitN(string(decoded), ":", 2)[1], ":")
		forbidden = append(forbidden, creds, password, runner.OneflowSandboxToken, secrets["ONEFLOW_SIGN_KEY"])
		forbidden = append(forbidden, strings.Split(secrets["OPERATOR_TOKENS"], ",")...)
		forbidden = append(forbidden, strings.Split(secrets["EMPLOYEE_DIRECTORY_TOKENS"], ",")...)

		raw, _ := json.Marshal(all)
		spans := string(raw)
		var serviceLogs strings.Builder
		lines := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			for _, svc := range []string{"gateway", "contract-sync", "document-archive", "employee-directory"} {
				if strings.HasPrefix(line, svc+" ") {
					serviceLogs.WriteString(line + "\n")
					lines++
				}
			}
		}
		if lines == 0 {
			t.Fatal("captured no service log lines; the scan would prove nothing")
		}
		for _, v := range forbidden {
			if v == "" {
				continue
			}
			if n := strings.Count(spans, v); n > 0 {
				t.Errorf("spans in Jaeger hold a seeded personal value or secret (%d times): %s…", n, v[:min(4, len(v))])
			}
			if n := strings.Count(serviceLogs.String(), v); n > 0 {
				t.Errorf("service logs hold a seeded personal value or secret (%d times): %s…", n, v[:min(4, len(v))])
			}
		}
		t.Logf("scanned %d traces (%d bytes) and %d service log lines for %d values", len(all), len(spans), lines, len(forbidden))
	})
}

func tagString(tag jaegerTag) string { return fmt.Sprint(tag.Value) }

// findTrace returns the trace whose spans carry the contract id and the
// event type (the webhook that started it).
func findTrace(all []jaegerTrace, contract, eventType string) *jaegerTrace {
	for i := range all {
		if hasTag(&all[i], "oneflow.contract.id", contract) && hasTag(&all[i], "oneflow.event.type", eventType) {
			return &all[i]
		}
	}
	return nil
}

func hasTag(tr *jaegerTrace, key, value string) bool {
	if tr == nil {
		return false
	}
	for _, s := range tr.Spans {
		for _, tag := range s.Tags {
			if tag.Key == key && (value == "" || tagString(tag) == value) {
				return true
			}
		}
	}
	return false
}

func hasService(tr *jaegerTrace, name string) bool {
	if tr == nil {
		return false
	}
	for _, s := range tr.Spans {
		if tr.Processes[s.ProcessID].ServiceName == name {
			return true
		}
	}
	return false
}

func serviceNames(tr *jaegerTrace) []string {
	if tr == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range tr.Processes {
		if !seen[p.ServiceName] {
			seen[p.ServiceName] = true
			out = append(out, p.ServiceName)
		}
	}
	return out
}

// touches reports whether an HTTP client span of the trace called addr.
func touches(tr *jaegerTrace, addr string) bool {
	if tr == nil {
		return false
	}
	host, port, _ := net.SplitHostPort(addr)
	for _, s := range tr.Spans {
		var h, p string
		for _, tag := range s.Tags {
			switch tag.Key {
			case "url.full", "http.url":
				if strings.Contains(tagString(tag), addr) {
					return true
				}
			case "server.address", "net.peer.name":
				h = tagString(tag)
			case "server.port", "net.peer.port":
				p = tagString(tag)
			}
		}
		if h == host && p == port {
			return true
		}
	}
	return false
}
