package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flexflow/flexflow/libs/config"
)

type serviceConfig struct {
	Addr        config.ListenAddr `env:"SVC_ADDR" envDefault:"127.0.0.1:9091"`
	APIRoot     config.URL        `env:"SVC_API_ROOT,required"`
	Credentials config.Base64     `env:"SVC_CREDENTIALS,required" secret:"true"`
	APIToken    string            `env:"SVC_API_TOKEN,required,notEmpty" secret:"true"`
	Tokens      config.Tokens     `env:"SVC_TOKENS,required" secret:"true"`
	Timeout     time.Duration     `env:"SVC_TIMEOUT" envDefault:"10s"`
	Workers     int               `env:"SVC_WORKERS" envDefault:"4"`
	NATS        natsConfig        `envPrefix:"SVC_"`
}

type natsConfig struct {
	URL     string `env:"NATS_URL"`
	DataDir string `env:"DATA_DIR" envDefault:"./.flexflow"`
}

const (
	goodToken  = "tok-aaaaaaaaaaaaaaaa"
	goodToken2 = "tok-bbbbbbbbbbbbbbbb"
	goodCreds  = "MTIzOmFwaTpwYTpzcw==" // 123:api:pa:ss
)

func validEnv() map[string]string {
	return map[string]string{
		"SVC_API_ROOT":    "https://flex.example/api/v1",
		"SVC_CREDENTIALS": goodCreds,
		"SVC_API_TOKEN":   "oneflow-api-token-value",
		"SVC_TOKENS":      " " + goodToken + " ,\n" + goodToken2 + ",",
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(env, kv[i])
			continue
		}
		env[kv[i]] = kv[i+1]
	}
	return env
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFillsTypedValuesAndDefaults(t *testing.T) {
	t.Parallel()
	var cfg serviceConfig
	if err := config.Load(&cfg, config.WithEnvironment(validEnv())); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Addr != "127.0.0.1:9091" || cfg.Timeout != 10*time.Second || cfg.Workers != 4 || cfg.NATS.DataDir != "./.flexflow" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if cfg.APIRoot.Host != "flex.example" || cfg.APIRoot.Path != "/api/v1" {
		t.Errorf("APIRoot = %v", cfg.APIRoot)
	}
	if diff := cmp.Diff(config.Tokens{goodToken, goodToken2}, cfg.Tokens); diff != "" {
		t.Errorf("Tokens (-want +got):\n%s", diff)
	}
	decoded, err := cfg.Credentials.Decode()
	if err != nil || string(decoded) != "123:api:pa:ss" {
		t.Errorf("Credentials.Decode = %q, %v", decoded, err)
	}
	if s := cfg.Tokens.String() + cfg.Credentials.String(); strings.Contains(s, goodToken) || strings.Contains(s, goodCreds) {
		t.Errorf("String() shows secrets: %s", s)
	}
}

func TestLoadReadsSecretsFromFiles(t *testing.T) {
	t.Parallel()
	env := with(validEnv(),
		"SVC_API_TOKEN", "<unset>",
		"SVC_API_TOKEN_FILE", writeFile(t, "  token-from-file-value\n"),
		"SVC_TOKENS", "<unset>",
		"SVC_TOKENS_FILE", writeFile(t, goodToken+"\n"+goodToken2+"\n"),
	)
	var cfg serviceConfig
	if err := config.Load(&cfg, config.WithEnvironment(env)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.APIToken != "token-from-file-value" {
		t.Errorf("APIToken = %q, want the trimmed file content", cfg.APIToken)
	}
	if len(cfg.Tokens) != 2 {
		t.Errorf("Tokens from file = %d entries, want 2", len(cfg.Tokens))
	}
}

func TestLoadErrorsNameTheVariableAndHideSecrets(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name     string
		env      map[string]string
		wantErr  []string
		noEchoes []string
	}{
		{"invalid_listen_address", with(validEnv(), "SVC_ADDR", "x"),
			[]string{`config: SVC_ADDR: invalid listen address "x"`}, nil},
		{"listen_port_out_of_range", with(validEnv(), "SVC_ADDR", "127.0.0.1:70000"),
			[]string{"config: SVC_ADDR:", "port must be 0-65535"}, nil},
		{"missing_required_url", with(validEnv(), "SVC_API_ROOT", "<unset>"),
			[]string{"config: SVC_API_ROOT: required but not set"}, nil},
		{"url_without_scheme", with(validEnv(), "SVC_API_ROOT", "flex.example/api"),
			[]string{"config: SVC_API_ROOT: invalid URL", "scheme must be http or https"}, nil},
		{"url_password_is_hidden", with(validEnv(), "SVC_API_ROOT", "ftp://user:hunter22@flex.example/"),
			[]string{"config: SVC_API_ROOT:"}, []string{"hunter22"}},
		{"missing_secret_mentions_file_alternative", with(validEnv(), "SVC_API_TOKEN", "<unset>"),
			[]string{"config: SVC_API_TOKEN: required but not set (set it or SVC_API_TOKEN_FILE)"}, nil},
		{"empty_secret", with(validEnv(), "SVC_API_TOKEN", ""),
			[]string{"config: SVC_API_TOKEN: must not be empty"}, nil},
		{"secret_and_file_both_set", with(validEnv(), "SVC_API_TOKEN_FILE", writeFile(t, "x")),
			[]string{"config: SVC_API_TOKEN and SVC_API_TOKEN_FILE: both are set"}, []string{"oneflow-api-token-value"}},
		{"unreadable_secret_file", with(validEnv(), "SVC_API_TOKEN", "<unset>", "SVC_API_TOKEN_FILE", missing),
			[]string{"config: SVC_API_TOKEN_FILE: cannot read secret file"}, nil},
		{"short_token", with(validEnv(), "SVC_TOKENS", goodToken+",short-secret"),
			[]string{"config: SVC_TOKENS: token 2 is shorter than 16 characters"}, []string{"short-secret", goodToken}},
		{"no_tokens", with(validEnv(), "SVC_TOKENS", " , "),
			[]string{"config: SVC_TOKENS: no tokens given"}, nil},
		{"invalid_base64_secret", with(validEnv(), "SVC_CREDENTIALS", "not base64 at all!"),
			[]string{"config: SVC_CREDENTIALS: not valid base64"}, []string{"not base64 at all"}},
		{"invalid_integer_shows_the_value", with(validEnv(), "SVC_WORKERS", "many"),
			[]string{`config: SVC_WORKERS: cannot parse "many" as int`}, nil},
		{"invalid_duration", with(validEnv(), "SVC_TIMEOUT", "ten"),
			[]string{`config: SVC_TIMEOUT: cannot parse "ten" as a duration`}, nil},
		{"several_problems_are_reported_together", with(validEnv(), "SVC_ADDR", "x", "SVC_WORKERS", "many", "SVC_API_ROOT", "<unset>"),
			[]string{"SVC_ADDR", "SVC_WORKERS", "SVC_API_ROOT"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg serviceConfig
			err := config.Load(&cfg, config.WithEnvironment(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			for _, secret := range tt.noEchoes {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes %q", err, secret)
				}
			}
			var ve *config.VarError
			if !errors.As(err, &ve) {
				t.Errorf("error %T is not a *config.VarError", err)
			}
		})
	}
}

func TestSecretParseErrorsDoNotEchoTheValue(t *testing.T) {
	t.Parallel()
	type secretInt struct {
		PIN int `env:"PIN" secret:"true"`
	}
	var cfg secretInt
	err := config.Load(&cfg, config.WithEnvironment(map[string]string{"PIN": "12ab-secret"}))
	if err == nil || strings.Contains(err.Error(), "12ab") || !strings.Contains(err.Error(), "config: PIN: invalid value") {
		t.Errorf("error = %v", err)
	}
	var ve *config.VarError
	if errors.As(err, &ve) && ve.Unwrap() != nil {
		t.Errorf("a secret's VarError keeps the underlying error, which may echo the value: %v", ve.Unwrap())
	}
}

func TestLoadRefusesNonStructs(t *testing.T) {
	t.Parallel()
	var s string
	if err := config.Load(&s); err == nil {
		t.Error("Load(*string) succeeded")
	}
	if err := config.Load(serviceConfig{}); err == nil {
		t.Error("Load(struct value) succeeded")
	}
}

func TestLoadReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("CONFIG_TEST_ADDR", "0.0.0.0:8080")
	var cfg struct {
		Addr config.ListenAddr `env:"CONFIG_TEST_ADDR,required"`
	}
	if err := config.Load(&cfg); err != nil || cfg.Addr != "0.0.0.0:8080" {
		t.Errorf("Load = %v, cfg %+v", err, cfg)
	}
}

func TestNamesListsVariablesWithFileAlternatives(t *testing.T) {
	t.Parallel()
	names, err := config.Names(&serviceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SVC_ADDR", "SVC_API_ROOT", "SVC_API_TOKEN", "SVC_API_TOKEN_FILE", "SVC_CREDENTIALS", "SVC_CREDENTIALS_FILE",
		"SVC_DATA_DIR", "SVC_NATS_URL", "SVC_TIMEOUT", "SVC_TOKENS", "SVC_TOKENS_FILE", "SVC_WORKERS"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func() error
		ok    bool
	}{
		{"loopback_address_is_a_listen_address", func() error { return config.ValidateListenAddr("127.0.0.1:8080") }, true},
		{"all_interfaces_is_a_listen_address", func() error { return config.ValidateListenAddr(":9091") }, true},
		{"ipv6_is_a_listen_address", func() error { return config.ValidateListenAddr("[::1]:0") }, true},
		{"port_alone_is_not_a_listen_address", func() error { return config.ValidateListenAddr("8080") }, false},
		{"named_port_is_not_a_listen_address", func() error { return config.ValidateListenAddr("localhost:http") }, false},
		{"https_api_root_is_a_url", func() error { _, err := config.ParseHTTPURL("https://api.oneflow.com/v1"); return err }, true},
		{"relative_path_is_not_a_url", func() error { _, err := config.ParseHTTPURL("/v1"); return err }, false},
		{"nats_scheme_is_not_an_http_url", func() error { _, err := config.ParseHTTPURL("nats://127.0.0.1:4222"); return err }, false},
		{"unpadded_base64_is_base64", func() error { var b config.Base64; return b.UnmarshalText([]byte("MTIzOmFwaTpwYXNz")) }, true},
		{"tokens_with_blank_lines_parse", func() error { _, err := config.ParseTokens("\n" + goodToken + "\n\n"); return err }, true},
		{"token_with_inner_space_is_refused", func() error { _, err := config.ParseTokens("tok aaaaaaaaaaaaaaaa"); return err }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.check(); (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
