// Package runner plans and runs `make run`: which processes to start given
// the environment (sandboxes only where no real endpoint is configured, an
// embedded NATS only when NATS_URL is empty), with what environment, and the
// one ready line a newcomer reads.
package runner

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/flexflow/flexflow/deploy/internal/stack"
)

// Defaults for the sandboxes when `make run` starts them.
const (
	NATSAddr           = "127.0.0.1:4222"
	FlexSandboxAddr    = "127.0.0.1:8091"
	OneflowSandboxAddr = "127.0.0.1:8092"
	// JaegerOTLPHTTP is where `make jaeger` listens for OTLP over HTTP.
	JaegerOTLPHTTP = "127.0.0.1:4318"
)

// Plan is what to start and what to tell the user.
type Plan struct {
	Specs     []stack.Spec
	ReadyLine string
	// ServiceEnv is the environment every flexflow service receives.
	ServiceEnv map[string]string
}

// Inputs are what Build needs from the outside world, injectable for tests.
type Inputs struct {
	Env     map[string]string
	BinDir  string
	DataDir string
	// JaegerUp reports whether a local Jaeger accepts OTLP (make jaeger).
	JaegerUp bool
	// Secrets holds generated secrets persisted across runs.
	Secrets map[string]string
	// Run counts `make run`s on this data directory (1 for the first).
	Run int
	// OneflowSandboxArgs are appended to the Oneflow sandbox's arguments
	// (e.g. -time-scale 0.01 so tests see its resend schedule in seconds,
	// or -duplicates 3); ignored when a real Oneflow is configured.
	OneflowSandboxArgs []string
}

// envOr returns the variable or a default.
func envOr(env map[string]string, k, def string) string {
	if v := strings.TrimSpace(env[k]); v != "" {
		return v
	}
	return def
}

// ValidateEnv checks the variables `make run` passes on, naming the first
// bad one.
func ValidateEnv(env map[string]string) error {
	for _, k := range []string{"GATEWAY_ADDR", "EMPLOYEE_DIRECTORY_ADDR", "CONTRACT_SYNC_ADDR", "DOCUMENT_ARCHIVE_ADDR"} {
		if v := env[k]; v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("%s: invalid address %q: want host:port", k, v)
			}
		}
	}
	for _, k := range []string{"FLEXHRM_API_ROOT", "ONEFLOW_API_URL", "NATS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := env[k]; v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Scheme == "" || u.Host == "" {
				return fmt.Errorf("%s: invalid URL %q", k, v)
			}
		}
	}
	if env["FLEXHRM_API_ROOT"] != "" && env["FLEXHRM_CREDENTIALS"] == "" && env["FLEXHRM_CREDENTIALS_FILE"] == "" {
		return fmt.Errorf("FLEXHRM_CREDENTIALS: required when FLEXHRM_API_ROOT points at a real Flex HRM")
	}
	if env["ONEFLOW_API_URL"] != "" {
		for _, k := range []string{"ONEFLOW_API_TOKEN", "ONEFLOW_USER_EMAIL", "ONEFLOW_SIGN_KEY"} {
			if env[k] == "" && env[k+"_FILE"] == "" {
				return fmt.Errorf("%s: required when ONEFLOW_API_URL points at a real Oneflow", k)
			}
		}
	}
	return nil
}

// NewSecret returns a random token of n bytes, hex encoded.
func NewSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Build plans the stack.
func Build(in Inputs) (Plan, error) {
	if err := ValidateEnv(in.Env); err != nil {
		return Plan{}, err
	}
	env := in.Env
	bin := func(name string) string { return filepath.Join(in.BinDir, name) }
	svc := map[string]string{
		"FLEXFLOW_DATA_DIR":         in.DataDir,
		"GATEWAY_ADDR":              envOr(env, "GATEWAY_ADDR", "127.0.0.1:8080"),
		"EMPLOYEE_DIRECTORY_ADDR":   envOr(env, "EMPLOYEE_DIRECTORY_ADDR", "127.0.0.1:9091"),
		"CONTRACT_SYNC_ADDR":        envOr(env, "CONTRACT_SYNC_ADDR", "127.0.0.1:9092"),
		"DOCUMENT_ARCHIVE_ADDR":     envOr(env, "DOCUMENT_ARCHIVE_ADDR", "127.0.0.1:9093"),
		"EMPLOYEE_DIRECTORY_TOKENS": envOr(env, "EMPLOYEE_DIRECTORY_TOKENS", in.Secrets["EMPLOYEE_DIRECTORY_TOKENS"]),
		"OPERATOR_TOKENS":           envOr(env, "OPERATOR_TOKENS", in.Secrets["OPERATOR_TOKENS"]),
		"ONEFLOW_SIGN_KEY":          envOr(env, "ONEFLOW_SIGN_KEY", in.Secrets["ONEFLOW_SIGN_KEY"]),
	}
	// contract-sync presents one token of each kind to its peers: the first
	// of each list unless the user names one.
	svc["EMPLOYEE_DIRECTORY_TOKEN"] = envOr(env, "EMPLOYEE_DIRECTORY_TOKEN", firstOf(svc["EMPLOYEE_DIRECTORY_TOKENS"]))
	svc["OPERATOR_TOKEN"] = envOr(env, "OPERATOR_TOKEN", firstOf(svc["OPERATOR_TOKENS"]))
	// Secrets given as files stay files.
	for _, k := range []string{"EMPLOYEE_DIRECTORY_TOKENS", "OPERATOR_TOKENS", "EMPLOYEE_DIRECTORY_TOKEN", "OPERATOR_TOKEN", "ONEFLOW_SIGN_KEY", "FLEXHRM_CREDENTIALS", "ONEFLOW_API_TOKEN"} {
		if f := env[k+"_FILE"]; f != "" {
			delete(svc, k)
			svc[k+"_FILE"] = f
		}
	}
	for list, one := range map[string]string{"EMPLOYEE_DIRECTORY_TOKENS": "EMPLOYEE_DIRECTORY_TOKEN", "OPERATOR_TOKENS": "OPERATOR_TOKEN"} {
		if env[list+"_FILE"] != "" && env[one] == "" && env[one+"_FILE"] == "" {
			return Plan{}, fmt.Errorf("%s: required when %s_FILE is used (the token contract-sync presents)", one, list)
		}
	}
	gateway := svc["GATEWAY_ADDR"]
	webhookURL := "http://" + gateway + "/v1/webhooks/oneflow"
	if env["GATEWAY_TLS_CERT_FILE"] != "" {
		webhookURL = "https://" + gateway + "/v1/webhooks/oneflow"
	}

	natsAddr := envOr(env, "FLEXFLOW_NATS_LISTEN", NATSAddr)
	flexAddr := envOr(env, "FLEXHRM_SANDBOX_LISTEN", FlexSandboxAddr)
	oneflowAddr := envOr(env, "ONEFLOW_SANDBOX_LISTEN", OneflowSandboxAddr)
	var specs []stack.Spec
	ready := []string{"flexflow is ready", "gateway http://" + gateway, "webhook " + webhookURL}

	if nats := env["NATS_URL"]; nats != "" {
		svc["NATS_URL"] = nats
		ready = append(ready, "NATS "+nats)
	} else {
		specs = append(specs, stack.Spec{
			Name: "nats", Path: bin("flexflow-nats"),
			Args:  []string{"-listen", natsAddr, "-data", in.DataDir},
			Ready: stack.TCPReady(natsAddr),
		})
		svc["NATS_URL"] = "nats://" + natsAddr
		ready = append(ready, "NATS nats://"+natsAddr+" (embedded, data in "+filepath.Join(in.DataDir, "nats")+")")
	}

	if root := env["FLEXHRM_API_ROOT"]; root != "" {
		svc["FLEXHRM_API_ROOT"] = root
		if c := env["FLEXHRM_CREDENTIALS"]; c != "" {
			svc["FLEXHRM_CREDENTIALS"] = c
		}
		ready = append(ready, "Flex HRM "+root)
	} else {
		specs = append(specs, stack.Spec{
			Name: "flexhrm-sandbox", Path: bin("flexhrm-sandbox"),
			Args:  []string{"-listen", flexAddr},
			Ready: stack.TCPReady(flexAddr),
		})
		svc["FLEXHRM_API_ROOT"] = "http://" + flexAddr + FlexSandboxRoot
		svc["FLEXHRM_CREDENTIALS"] = FlexSandboxCredentials
		ready = append(ready, "Flex HRM sandbox http://"+flexAddr)
	}

	if api := env["ONEFLOW_API_URL"]; api != "" {
		svc["ONEFLOW_API_URL"] = api
		for _, k := range []string{"ONEFLOW_API_TOKEN", "ONEFLOW_USER_EMAIL"} {
			if v := env[k]; v != "" {
				svc[k] = v
			}
		}
		ready = append(ready, "Oneflow "+api)
	} else {
		signKey := svc["ONEFLOW_SIGN_KEY"]
		args := []string{"-listen", oneflowAddr, "-webhook-url", webhookURL}
		if in.Run > 1 {
			// The sandbox forgets its contracts on restart but flexflow's
			// JetStream state is kept: a new run must not reuse their ids.
			args = append(args, "-first-contract-id", strconv.Itoa(4711+(in.Run-1)*1_000_000))
		}
		args = append(args, in.OneflowSandboxArgs...)
		specs = append(specs, stack.Spec{
			Name: "oneflow-sandbox", Path: bin("oneflow-sandbox"), Args: args,
			// The sign key travels in the environment, not argv, so it
			// does not show in `ps`.
			Env:   []string{"ONEFLOW_SIGN_KEY=" + signKey},
			Ready: stack.TCPReady(oneflowAddr),
		})
		svc["ONEFLOW_API_URL"] = "http://" + oneflowAddr + OneflowSandboxRoot
		svc["ONEFLOW_API_TOKEN"] = OneflowSandboxToken
		svc["ONEFLOW_USER_EMAIL"] = OneflowSandboxUserEmail
		ready = append(ready, "Oneflow sandbox http://"+oneflowAddr)
	}

	switch {
	case env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "" || env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != "":
		ready = append(ready, "traces to "+envOr(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env["OTEL_EXPORTER_OTLP_ENDPOINT"]))
	case in.JaegerUp:
		svc["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + JaegerOTLPHTTP
		svc["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
		ready = append(ready, "traces to Jaeger (query API http://127.0.0.1:16686/api/traces)")
	default:
		ready = append(ready, "traces not exported (run `make jaeger` first, or set OTEL_EXPORTER_OTLP_ENDPOINT)")
	}

	// The sandbox spec above must see the final sign key; services get the
	// rest of the process environment too (PATH, HOME, OTEL_* the user set).
	base := os.Environ()
	for i := range specs {
		specs[i].Env = stack.EnvWith(base, envMap(specs[i].Env))
	}
	for _, s := range []struct{ name, addrVar string }{
		{"employee-directory", "EMPLOYEE_DIRECTORY_ADDR"},
		{"contract-sync", "CONTRACT_SYNC_ADDR"},
		{"document-archive", "DOCUMENT_ARCHIVE_ADDR"},
	} {
		specs = append(specs, stack.Spec{
			Name: s.name, Path: bin(s.name),
			Env:   stack.EnvWith(base, withService(svc, s.name)),
			Ready: stack.GRPCReady(svc[s.addrVar]),
		})
	}
	specs = append(specs, stack.Spec{
		Name: "gateway", Path: bin("gateway"),
		Env:   stack.EnvWith(base, withService(svc, "gateway")),
		Ready: stack.HTTPReady("http://" + gateway + "/healthz"),
	})
	if env["GATEWAY_TLS_CERT_FILE"] != "" {
		specs[len(specs)-1].Ready = stack.TCPReady(gateway)
		ready[1] = "gateway https://" + gateway
	}
	return Plan{Specs: specs, ReadyLine: strings.Join(ready, " · "), ServiceEnv: svc}, nil
}

func firstOf(list string) string {
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			return t
		}
	}
	return ""
}

// withService adds OTEL_SERVICE_NAME so each process names itself in traces.
func withService(svc map[string]string, name string) map[string]string {
	out := make(map[string]string, len(svc)+1)
	for k, v := range svc {
		out[k] = v
	}
	out["OTEL_SERVICE_NAME"] = name
	return out
}

func envMap(kvs []string) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// SortedKeys is a helper for stable output.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
