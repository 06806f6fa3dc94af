package service_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/service"
)

func validEnv() map[string]string {
	return map[string]string{
		"FLEXHRM_API_ROOT":          "https://api.flexhrm.com/api",
		"FLEXHRM_CREDENTIALS":       base64.StdEncoding.EncodeToString([]byte("1001:flexflow-api:pa:ss")),
		"EMPLOYEE_DIRECTORY_TOKENS": employeeToken,
	}
}

func TestLoad(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(secretFile, []byte(employeeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		change   func(env map[string]string)
		wantErrs []string
		check    func(t *testing.T, c service.Config)
	}{
		{
			name: "defaults fill everything but Flex HRM and the tokens",
			check: func(t *testing.T, c service.Config) {
				if c.Addr != "127.0.0.1:9091" || c.EmployeeCacheTTL != 3*time.Second || c.ReferenceCacheTTL != time.Minute {
					t.Fatalf("got %+v", c)
				}
			},
		},
		{
			name:     "missing Flex HRM settings and tokens are each named",
			change:   func(env map[string]string) { clear(env) },
			wantErrs: []string{"FLEXHRM_API_ROOT", "FLEXHRM_CREDENTIALS", "EMPLOYEE_DIRECTORY_TOKENS"},
		},
		{
			name: "tokens may come from a file",
			change: func(env map[string]string) {
				delete(env, "EMPLOYEE_DIRECTORY_TOKENS")
				env["EMPLOYEE_DIRECTORY_TOKENS_FILE"] = secretFile
			},
			check: func(t *testing.T, c service.Config) {
				if len(c.Tokens) != 1 || c.Tokens[0] != employeeToken {
					t.Fatalf("tokens %v", c.Tokens)
				}
			},
		},
		{
			name: "credentials that are not customer:user:password are named without being shown",
			change: func(env map[string]string) {
				env["FLEXHRM_CREDENTIALS"] = base64.StdEncoding.EncodeToString([]byte("only-one-part"))
			},
			wantErrs: []string{"FLEXHRM_CREDENTIALS"},
		},
		{
			name:     "a malformed cache TTL is named",
			change:   func(env map[string]string) { env["EMPLOYEE_CACHE_TTL"] = "soon" },
			wantErrs: []string{"EMPLOYEE_CACHE_TTL"},
		},
		{
			name:     "a negative cache TTL is named",
			change:   func(env map[string]string) { env["EMPLOYEE_CACHE_TTL"] = "-1s" },
			wantErrs: []string{"EMPLOYEE_CACHE_TTL"},
		},
		{
			name:   "a zero cache TTL disables the cache",
			change: func(env map[string]string) { env["EMPLOYEE_CACHE_TTL"] = "0s" },
			check: func(t *testing.T, c service.Config) {
				if c.EmployeeCacheTTL != 0 {
					t.Fatalf("ttl %s", c.EmployeeCacheTTL)
				}
			},
		},
		{
			name:     "a bad listen address is named",
			change:   func(env map[string]string) { env["EMPLOYEE_DIRECTORY_ADDR"] = "9091" },
			wantErrs: []string{"EMPLOYEE_DIRECTORY_ADDR"},
		},
		{
			name:     "a short token is refused",
			change:   func(env map[string]string) { env["EMPLOYEE_DIRECTORY_TOKENS"] = "changeme" },
			wantErrs: []string{"EMPLOYEE_DIRECTORY_TOKENS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := validEnv()
			if tt.change != nil {
				tt.change(env)
			}
			cfg, err := service.Load(env)
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatal("want an error")
				}
				for _, name := range tt.wantErrs {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error %q does not name %s", err, name)
					}
				}
				if strings.Contains(err.Error(), "pa:ss") || strings.Contains(err.Error(), "changeme") {
					t.Errorf("error %q shows a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestRegisterSecretsCoversEverySecret(t *testing.T) {
	cfg, err := service.Load(validEnv())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	cfg.RegisterSecrets(sinkFunc(func(s string) { got = append(got, s) }))
	for _, want := range []string{validEnv()["FLEXHRM_CREDENTIALS"], "pa:ss", employeeToken} {
		if !slices.Contains(got, want) {
			t.Errorf("secret %q not registered", want)
		}
	}
}

type sinkFunc func(string)

func (f sinkFunc) AddSecret(s string) { f(s) }

func TestStartRefusesBadConfigNamingTheVariable(t *testing.T) {
	_, err := service.Start(t.Context(), service.Config{}, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "FLEXHRM_API_ROOT") {
		t.Fatalf("err = %v", err)
	}
}

func TestHealthNameIsTheGeneratedServiceName(t *testing.T) {
	// The health check and access policy name the service by this string.
	if edv1.EmployeeDirectoryService_ServiceDesc.ServiceName != "flexflow.employeedirectory.v1.EmployeeDirectoryService" {
		t.Fatal("the generated service was renamed; update serviceName in service.go")
	}
}
