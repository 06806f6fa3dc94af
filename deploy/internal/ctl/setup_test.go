package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/flexflow/flexflow/deploy/internal/ctl"
	"github.com/flexflow/flexflow/libs/flexhrm"
	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/oneflow"
	oneflowsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

type sandboxes struct {
	flexURL, flexCreds, oneflowAPI, token, email string
	oneflowAPIClient                             *oneflow.Client
}

func startSandboxes(t *testing.T) sandboxes {
	t.Helper()
	flex := flexsandbox.New(flexsandbox.DefaultSeed())
	url, err := flex.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(flex.Close)
	of, err := oneflowsandbox.Start(oneflowsandbox.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = of.Close() })
	c, err := oneflow.New(oneflow.Options{BaseURL: of.APIURL(), Token: of.APIToken(), UserEmail: of.UserEmail(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return sandboxes{flexURL: url, flexCreds: flex.Credentials(), oneflowAPI: of.APIURL(), token: of.APIToken(), email: of.UserEmail(), oneflowAPIClient: c}
}

func runCtl(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := ctl.Main(context.Background(), args, ctl.Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestCheckSaysWhatBlocksSyncing(t *testing.T) {
	sb := startSandboxes(t)
	good := map[string]string{
		"FLEXHRM_API_ROOT": sb.flexURL, "FLEXHRM_CREDENTIALS": sb.flexCreds,
		"ONEFLOW_API_URL": sb.oneflowAPI, "ONEFLOW_API_TOKEN": sb.token, "ONEFLOW_USER_EMAIL": sb.email,
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	wrongPassword := flexhrm.Credentials{CustomerNumber: "1001", Username: "flexflow-api", Password: "wrong"}.Encoded()
	wrongCustomer := flexhrm.Credentials{CustomerNumber: "9999", Username: "flexflow-api", Password: "sandbox:pass:word"}.Encoded()
	tests := []struct {
		name     string
		env      map[string]string
		wantCode int
		want     []string
	}{
		{"seeded_sandboxes_report_each_company_and_the_company_without_a_category_blocks",
			good, ctl.ExitFailed, []string{"ok    flex-hrm", "Oneflow Documents", "fail  company 3", "token and user email accepted", "holds the 15 data fields"}},
		{"wrong_password_is_named", with("FLEXHRM_CREDENTIALS", wrongPassword), ctl.ExitFailed, []string{"fail  flex-hrm"}},
		{"wrong_customer_number_is_named", with("FLEXHRM_CREDENTIALS", wrongCustomer), ctl.ExitFailed, []string{"customer number"}},
		{"wrong_root_is_named", with("FLEXHRM_API_ROOT", "http://127.0.0.1:1/api"), ctl.ExitFailed, []string{"fail  flex-hrm"}},
		{"wrong_oneflow_token_is_named", with("ONEFLOW_API_TOKEN", "not-the-token-0000000000000000000000000"), ctl.ExitFailed, []string{"fail  oneflow", "refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCtl(t, tt.env, "check")
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, secret := range []string{"sandbox:pass:word", sb.token, sb.flexCreds} {
				if strings.Contains(out+errOut, secret) {
					t.Fatal("check printed a secret")
				}
			}
		})
	}
}

func TestSetupOneflowAddsOnlyWhatIsMissingAndKeepsAdminFields(t *testing.T) {
	sb := startSandboxes(t)
	env := map[string]string{"ONEFLOW_API_URL": sb.oneflowAPI, "ONEFLOW_API_TOKEN": sb.token, "ONEFLOW_USER_EMAIL": sb.email,
		"FLEXHRM_TEMPLATE_TYPE_NAME": "Flex HRM (new)"}
	code, out, errOut := runCtl(t, env, "setup-oneflow")
	if code != 0 || !strings.Contains(out, "created template type") {
		t.Fatalf("first run: %d %s %s", code, out, errOut)
	}
	// An admin adds a field of their own, and one of ours disappears.
	ctx := context.Background()
	types, _ := sb.oneflowAPIClient.ListTemplateTypes(ctx)
	var id int64
	for _, tt := range types {
		if tt.Name == "Flex HRM (new)" {
			id = tt.ID
		}
	}
	fields, err := sb.oneflowAPIClient.ListTemplateTypeDataFields(ctx, id)
	if err != nil || len(fields) != 15 {
		t.Fatalf("after setup: %d fields, %v", len(fields), err)
	}
	fields = append(fields[1:], oneflow.TemplateTypeDataField{CustomID: "admin_bonus", Name: "Bonus"})
	if err := sb.oneflowAPIClient.SetTemplateTypeDataFields(ctx, id, fields); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCtl(t, env, "setup-oneflow", "--json")
	if code != 0 {
		t.Fatalf("second run exit %d", code)
	}
	var res struct {
		Added []string
		Kept  int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Added) != 1 || res.Kept != 15 {
		t.Fatalf("second run: %s (%v)", out, err)
	}
	after, _ := sb.oneflowAPIClient.ListTemplateTypeDataFields(ctx, id)
	kept := false
	for _, f := range after {
		kept = kept || f.CustomID == "admin_bonus"
	}
	if len(after) != 16 || !kept {
		t.Fatalf("admin field dropped or count wrong: %d fields", len(after))
	}
	code, out, _ = runCtl(t, env, "setup-oneflow")
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Fatalf("third run: %d %s", code, out)
	}
}
