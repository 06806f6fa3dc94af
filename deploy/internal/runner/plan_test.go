package runner

import (
	"strings"
	"testing"
)

func names(p Plan) string {
	var n []string
	for _, s := range p.Specs {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func TestPlanStartsSandboxesOnlyWhereNoRealEndpointIsConfigured(t *testing.T) {
	secrets := map[string]string{"EMPLOYEE_DIRECTORY_TOKENS": "emp-secret-1", "OPERATOR_TOKENS": "op-secret-1", "ONEFLOW_SIGN_KEY": "sign-secret-1"}
	tests := []struct {
		name      string
		env       map[string]string
		jaeger    bool
		wantProcs string
		wantReady []string
		wantEnv   map[string]string
	}{
		{
			name:      "embedded_defaults_start_everything",
			env:       map[string]string{},
			wantProcs: "nats,flexhrm-sandbox,oneflow-sandbox,employee-directory,contract-sync,document-archive,gateway",
			wantReady: []string{"gateway http://127.0.0.1:8080", "webhook http://127.0.0.1:8080/v1/webhooks/oneflow", "Flex HRM sandbox", "Oneflow sandbox", "traces not exported"},
			wantEnv:   map[string]string{"NATS_URL": "nats://" + NATSAddr, "ONEFLOW_SIGN_KEY": "sign-secret-1", "OPERATOR_TOKENS": "op-secret-1", "OPERATOR_TOKEN": "op-secret-1", "EMPLOYEE_DIRECTORY_TOKEN": "emp-secret-1"},
		},
		{
			name:      "real_flex_hrm_replaces_its_sandbox",
			env:       map[string]string{"FLEXHRM_API_ROOT": "https://stage-api.flexhrm.com/api", "FLEXHRM_CREDENTIALS": "Yjpj"},
			wantProcs: "nats,oneflow-sandbox,employee-directory,contract-sync,document-archive,gateway",
			wantEnv:   map[string]string{"FLEXHRM_API_ROOT": "https://stage-api.flexhrm.com/api", "FLEXHRM_CREDENTIALS": "Yjpj"},
		},
		{
			name:      "real_oneflow_replaces_its_sandbox",
			env:       map[string]string{"ONEFLOW_API_URL": "https://api.oneflow.com/v1", "ONEFLOW_API_TOKEN": "t", "ONEFLOW_USER_EMAIL": "u@example.com", "ONEFLOW_SIGN_KEY": "real"},
			wantProcs: "nats,flexhrm-sandbox,employee-directory,contract-sync,document-archive,gateway",
			wantEnv:   map[string]string{"ONEFLOW_API_URL": "https://api.oneflow.com/v1", "ONEFLOW_SIGN_KEY": "real"},
		},
		{
			name:      "nats_url_means_no_embedded_server",
			env:       map[string]string{"NATS_URL": "nats://nats.internal:4222"},
			wantProcs: "flexhrm-sandbox,oneflow-sandbox,employee-directory,contract-sync,document-archive,gateway",
			wantEnv:   map[string]string{"NATS_URL": "nats://nats.internal:4222"},
		},
		{
			name:      "a_running_jaeger_receives_traces",
			env:       map[string]string{},
			jaeger:    true,
			wantProcs: "nats,flexhrm-sandbox,oneflow-sandbox,employee-directory,contract-sync,document-archive,gateway",
			wantReady: []string{"traces to Jaeger"},
			wantEnv:   map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + JaegerOTLPHTTP},
		},
		{
			name:      "secret_files_are_passed_as_files",
			env:       map[string]string{"OPERATOR_TOKENS_FILE": "/run/secrets/operator", "OPERATOR_TOKEN_FILE": "/run/secrets/operator-one"},
			wantProcs: "nats,flexhrm-sandbox,oneflow-sandbox,employee-directory,contract-sync,document-archive,gateway",
			wantEnv:   map[string]string{"OPERATOR_TOKENS_FILE": "/run/secrets/operator", "OPERATOR_TOKENS": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(Inputs{Env: tt.env, BinDir: "/bin", DataDir: "/data", JaegerUp: tt.jaeger, Secrets: secrets})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(p); got != tt.wantProcs {
				t.Fatalf("processes %s, want %s", got, tt.wantProcs)
			}
			for _, r := range tt.wantReady {
				if !strings.Contains(p.ReadyLine, r) {
					t.Errorf("ready line %q lacks %q", p.ReadyLine, r)
				}
			}
			for k, v := range tt.wantEnv {
				if p.ServiceEnv[k] != v {
					t.Errorf("%s = %q, want %q", k, p.ServiceEnv[k], v)
				}
			}
			for _, secret := range secrets {
				if strings.Contains(p.ReadyLine, secret) {
					t.Error("ready line shows a secret")
				}
			}
		})
	}
}

func TestABadVariableStopsStartUpNamingIt(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad_gateway_address", map[string]string{"GATEWAY_ADDR": "8080"}, "GATEWAY_ADDR"},
		{"bad_flex_root", map[string]string{"FLEXHRM_API_ROOT": "not a url", "FLEXHRM_CREDENTIALS": "x"}, "FLEXHRM_API_ROOT"},
		{"real_flex_without_credentials", map[string]string{"FLEXHRM_API_ROOT": "https://api.flexhrm.com/api"}, "FLEXHRM_CREDENTIALS"},
		{"real_oneflow_without_sign_key", map[string]string{"ONEFLOW_API_URL": "https://api.oneflow.com/v1", "ONEFLOW_API_TOKEN": "t", "ONEFLOW_USER_EMAIL": "u"}, "ONEFLOW_SIGN_KEY"},
		{"bad_nats_url", map[string]string{"NATS_URL": "::"}, "NATS_URL"},
		{"token_list_file_without_the_token_to_present", map[string]string{"OPERATOR_TOKENS_FILE": "/f"}, "OPERATOR_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(Inputs{Env: tt.env, Secrets: map[string]string{}})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
		})
	}
}

func TestASecondRunsSandboxDoesNotReuseContractIDs(t *testing.T) {
	dir := t.TempDir()
	for want := 1; want <= 2; want++ {
		run, err := NextRun(dir)
		if err != nil || run != want {
			t.Fatalf("run %d, %v; want %d", run, err, want)
		}
	}
	first, _ := Build(Inputs{Env: map[string]string{}, Secrets: map[string]string{}, Run: 1})
	second, _ := Build(Inputs{Env: map[string]string{}, Secrets: map[string]string{}, Run: 2})
	args := func(p Plan) string {
		for _, s := range p.Specs {
			if s.Name == "oneflow-sandbox" {
				return strings.Join(s.Args, " ")
			}
		}
		return ""
	}
	if strings.Contains(args(first), "-first-contract-id") || !strings.Contains(args(second), "-first-contract-id 1004711") {
		t.Fatalf("first run %q, second run %q", args(first), args(second))
	}
}

func TestSecretsSurviveASecondRun(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreateSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range first {
		if second[k] != v || v == "" {
			t.Fatalf("%s changed between runs", k)
		}
	}
}

func TestPlanPassesExtraArgumentsToTheOneflowSandboxOnly(t *testing.T) {
	secrets := map[string]string{"EMPLOYEE_DIRECTORY_TOKENS": "e", "OPERATOR_TOKENS": "o", "ONEFLOW_SIGN_KEY": "s"}
	p, err := Build(Inputs{Env: map[string]string{}, BinDir: "/bin", DataDir: t.TempDir(), Secrets: secrets,
		OneflowSandboxArgs: []string{"-time-scale", "0.01", "-duplicates", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Specs {
		got := strings.Join(s.Args, " ")
		switch s.Name {
		case "oneflow-sandbox":
			if !strings.HasSuffix(got, "-time-scale 0.01 -duplicates 3") || !strings.Contains(got, "-webhook-url") {
				t.Errorf("oneflow-sandbox args = %q", got)
			}
		default:
			if strings.Contains(got, "-time-scale") {
				t.Errorf("%s got the sandbox's arguments: %q", s.Name, got)
			}
		}
	}
	real, err := Build(Inputs{Env: map[string]string{"ONEFLOW_API_URL": "https://api.oneflow.com/v1", "ONEFLOW_API_TOKEN": "t",
		"ONEFLOW_USER_EMAIL": "u@example.com", "ONEFLOW_SIGN_KEY": "k"}, BinDir: "/bin", DataDir: t.TempDir(), Secrets: secrets,
		OneflowSandboxArgs: []string{"-time-scale", "0.01"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(names(real), "oneflow-sandbox") {
		t.Errorf("a real Oneflow still starts the sandbox: %s", names(real))
	}
}
