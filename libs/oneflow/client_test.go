package oneflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/internal/pdfcheck"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

func startSandbox(t *testing.T) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Options{TimeScale: 0.001})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// logBuffer collects the client's log lines to check what they hold.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testOptions(srv *sandbox.Server, logs io.Writer) oneflow.Options {
	if logs == nil {
		logs = io.Discard
	}
	return oneflow.Options{
		BaseURL: srv.APIURL(), Token: srv.APIToken(), UserEmail: srv.UserEmail(),
		Logger:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RateLimitBackoff: time.Millisecond,
		Retry:            oneflow.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxElapsedTime: 5 * time.Second},
	}
}

func newClient(t *testing.T, opts oneflow.Options) *oneflow.Client {
	t.Helper()
	c, err := oneflow.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	valid := oneflow.Options{BaseURL: "https://api.oneflow.com/v1", Token: "secret-token", UserEmail: "api@example.se",
		Logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name   string
		change func(*oneflow.Options)
		want   string
	}{
		{"a_nil_logger_is_refused", func(o *oneflow.Options) { o.Logger = nil }, "Logger"},
		{"an_empty_token_is_refused", func(o *oneflow.Options) { o.Token = " " }, "Token"},
		{"an_empty_user_email_is_refused", func(o *oneflow.Options) { o.UserEmail = "" }, "UserEmail"},
		{"a_relative_base_url_is_refused", func(o *oneflow.Options) { o.BaseURL = "api.oneflow.com/v1" }, "BaseURL"},
		{"a_base_url_with_credentials_is_refused_without_echoing_them", func(o *oneflow.Options) {
			o.BaseURL = "https://user:secret-token@api.oneflow.com/v1"
		}, "BaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid
			tt.change(&opts)
			_, err := oneflow.New(opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret-token") {
				t.Fatalf("New: %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if _, err := oneflow.New(valid); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
}

func TestEveryCallCarriesTheTokenAndUserEmail(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		switch r.URL.Path {
		case "/v1/contracts/7":
			_, _ = io.WriteString(w, `{"id":7,"state":"draft"}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	defer upstream.Close()
	client := newClient(t, oneflow.Options{BaseURL: upstream.URL + "/v1", Token: "tok-123", UserEmail: "api@example.se",
		Logger: slog.New(slog.DiscardHandler)})
	ctx := t.Context()
	if err := client.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetContract(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if err := client.RenameContract(ctx, 7, "x"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Fatalf("%d calls seen", len(seen))
	}
	for _, h := range seen {
		if h.Get(oneflow.HeaderAPIToken) != "tok-123" || h.Get(oneflow.HeaderUserEmail) != "api@example.se" {
			t.Fatalf("a call without the token or email: %v", h)
		}
	}
}

func TestErrorsAreTypedAndCarryTheRequestID(t *testing.T) {
	srv := startSandbox(t)
	logs := &logBuffer{}
	opts := testOptions(srv, logs)
	opts.Retry.MaxAttempts = 1
	client := newClient(t, opts)
	tests := []struct {
		status int
		want   error
	}{
		{400, oneflow.ErrValidation}, {401, oneflow.ErrUnauthorized}, {403, oneflow.ErrForbidden},
		{404, oneflow.ErrNotFound}, {409, oneflow.ErrConflict}, {422, oneflow.ErrValidation},
		{500, oneflow.ErrUnavailable}, {502, oneflow.ErrUnavailable}, {503, oneflow.ErrUnavailable}, {504, oneflow.ErrUnavailable},
		{418, oneflow.ErrUnexpected},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("status_%d_is_%v", tt.status, tt.want), func(t *testing.T) {
			srv.FailNext(sandbox.FailRule{Path: "/v1/ping", Count: 1, Status: tt.status})
			err := client.Ping(t.Context())
			var apiErr *oneflow.APIError
			if !errors.Is(err, tt.want) || !errors.As(err, &apiErr) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if apiErr.RequestID == "" || !strings.Contains(err.Error(), apiErr.RequestID) {
				t.Fatalf("no request id in %v", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.ErrorCode != int64(tt.status)*10000 || apiErr.Op != "GET /ping" {
				t.Fatalf("APIError %+v", apiErr)
			}
			if oneflow.IsTransient(err) != (tt.status >= 500) {
				t.Fatalf("IsTransient = %v for %d", oneflow.IsTransient(err), tt.status)
			}
		})
	}
	if !strings.Contains(logs.String(), "request_id=") {
		t.Errorf("the failures were not logged with their request id")
	}
}

func TestErrorsAndLogsNeverHoldCredentialsOrPersonalData(t *testing.T) {
	srv := startSandbox(t)
	logs := &logBuffer{}
	client := newClient(t, testOptions(srv, logs))
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := oneflow.OwnerSideParty(c)
	const personal = "secret.person@example.se"
	_, err = client.AddParticipant(t.Context(), c.ID, owner.ID, oneflow.NewParticipant{Name: "Secret Person", Email: personal})
	var apiErr *oneflow.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, oneflow.ErrValidation) {
		t.Fatalf("AddParticipant: %v", err)
	}
	if !strings.Contains(err.Error(), "problems with email") {
		t.Errorf("the error does not name the refused parameter: %v", err)
	}
	wrong := testOptions(srv, logs)
	wrong.Token = "wrong-token-value-123"
	if err := newClient(t, wrong).Ping(t.Context()); !errors.Is(err, oneflow.ErrUnauthorized) {
		t.Fatalf("Ping with a wrong token: %v", err)
	}
	for _, secret := range []string{personal, "Secret Person", srv.APIToken(), "wrong-token-value-123", srv.UserEmail()} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("%q leaked into an error or a log line", secret)
		}
	}
}

func TestReadsAreRetriedOn5xxAndWritesAreNot(t *testing.T) {
	srv := startSandbox(t)
	client := newClient(t, testOptions(srv, nil))
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/v1/contracts/%d", c.ID)

	srv.FailNext(sandbox.FailRule{Method: http.MethodGet, Path: path, Count: 3, Status: http.StatusBadGateway})
	got, err := client.GetContract(t.Context(), c.ID)
	if err != nil || got.ID != c.ID {
		t.Fatalf("GetContract after 3 failures: %v", err)
	}
	if n := srv.CountRequests("GET /v1/contracts/{id}", 0); n != 4 {
		t.Errorf("%d GETs, want 4", n)
	}

	srv.FailNext(sandbox.FailRule{Method: http.MethodPut, Path: path, Count: 1, Status: http.StatusInternalServerError})
	if err := client.RenameContract(t.Context(), c.ID, "x"); !errors.Is(err, oneflow.ErrUnavailable) {
		t.Fatalf("RenameContract after a 500: %v, want ErrUnavailable", err)
	}
	if n := srv.CountRequests("PUT /v1/contracts/{id}", 0); n != 1 {
		t.Errorf("%d PUTs, want exactly 1: writes are not retried blindly", n)
	}

	opts := testOptions(srv, nil)
	opts.Retry.MaxAttempts = 3
	limited := newClient(t, opts)
	srv.FailNext(sandbox.FailRule{Method: http.MethodGet, Path: path, Count: 5, Status: http.StatusServiceUnavailable})
	if _, err := limited.GetContract(t.Context(), c.ID); !errors.Is(err, oneflow.ErrUnavailable) {
		t.Fatalf("GetContract with more failures than attempts: %v", err)
	}
}

func TestRateLimitedCallsBackOffAndRetryWithinTheBudget(t *testing.T) {
	srv := startSandbox(t)
	logs := &logBuffer{}
	client := newClient(t, testOptions(srv, logs))
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a_read_waits_out_429s", func(t *testing.T) {
		srv.RateLimitNext(3)
		if _, err := client.GetContract(t.Context(), c.ID); err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		if n := srv.CountRequests("GET /v1/contracts/{id}", http.StatusTooManyRequests); n != 3 {
			t.Errorf("%d refused GETs, want 3", n)
		}
	})

	t.Run("a_write_is_repeated_after_429_because_429_refuses_before_any_effect", func(t *testing.T) {
		srv.RateLimitNext(2)
		if err := client.UpdateDataFields(t.Context(), c.ID, []oneflow.DataFieldUpdate{{CustomID: oneflow.CustomIDCity, Value: "Lund"}}); err != nil {
			t.Fatalf("UpdateDataFields: %v", err)
		}
		if n := srv.CountRequests("PUT /v1/contracts/{id}/data_fields", 0); n != 3 {
			t.Errorf("%d PUTs, want 3 (two refused, one applied)", n)
		}
	})

	t.Run("past_the_budget_the_call_fails_as_rate_limited_with_the_request_id", func(t *testing.T) {
		opts := testOptions(srv, logs)
		opts.RateLimitBackoff = 2 * time.Millisecond
		opts.RateLimitMaxWait = 5 * time.Millisecond
		limited := newClient(t, opts)
		srv.RateLimitNext(100)
		defer srv.ClearRateLimit()
		err := limited.Ping(t.Context())
		var apiErr *oneflow.APIError
		if !errors.Is(err, oneflow.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RequestID == "" || apiErr.ErrorCode != 4290000 {
			t.Fatalf("Ping: %v, want ErrRateLimited with a request id", err)
		}
		if !oneflow.IsTransient(err) {
			t.Errorf("a rate limit is not reported as transient")
		}
	})

	t.Run("a_negative_budget_fails_at_the_first_429", func(t *testing.T) {
		opts := testOptions(srv, logs)
		opts.RateLimitMaxWait = -1
		srv.ClearRequestLog()
		srv.RateLimitNext(1)
		if err := newClient(t, opts).Ping(t.Context()); !errors.Is(err, oneflow.ErrRateLimited) {
			t.Fatalf("Ping: %v", err)
		}
		if n := srv.CountRequests("GET /v1/ping", 0); n != 1 {
			t.Errorf("%d pings, want 1", n)
		}
	})
	if !strings.Contains(logs.String(), "backing off") {
		t.Errorf("backing off was not logged")
	}
}

func TestATimedOutAttemptIsTransientAndACancelledCallStops(t *testing.T) {
	srv := startSandbox(t)
	opts := testOptions(srv, nil)
	opts.RequestTimeout = 20 * time.Millisecond
	opts.Retry.MaxAttempts = 1
	client := newClient(t, opts)
	srv.SetLatency("/v1/ping", 2*time.Second)
	err := client.Ping(t.Context())
	if !errors.Is(err, oneflow.ErrUnavailable) || !oneflow.IsTransient(err) {
		t.Fatalf("Ping past the timeout: %v, want a transient ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), srv.URL()) {
		t.Errorf("the error quotes the URL: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := newClient(t, testOptions(srv, nil)).Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ping with a cancelled context: %v", err)
	}
}

func TestFindActiveUserByEmail(t *testing.T) {
	srv := startSandbox(t)
	client := newClient(t, testOptions(srv, nil))
	tests := []struct {
		name, email string
		wantID      int64
		found       bool
	}{
		{"an_active_user_is_found", sandbox.ManagerEmail, 4, true},
		{"case_and_spaces_are_ignored", "  MARIA.Manager@Example.SE ", 4, true},
		{"an_inactive_user_is_never_found", "ivar.inactive@acme.example", 0, false},
		{"an_unknown_email_is_not_found", "nobody@example.se", 0, false},
		{"an_empty_email_is_not_found", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, found, err := client.FindActiveUserByEmail(t.Context(), tt.email)
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.found || u.ID != tt.wantID || (found && !u.Active) {
				t.Fatalf("got %+v, %v; want id %d, %v", u, found, tt.wantID, tt.found)
			}
		})
	}
	if n := srv.CountRequests("GET /v1/users", 0); n != 1 {
		t.Errorf("%d user listings for %d lookups, want 1 (cached)", n, len(tests))
	}

	t.Run("the_cache_is_reloaded_after_invalidation_and_concurrent_lookups_share_one_load", func(t *testing.T) {
		client.InvalidateUserCache()
		srv.ClearRequestLog()
		srv.SetLatency("/v1/users", 200*time.Millisecond)
		defer srv.SetLatency("/v1/users", 0)
		const callers = 20
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if _, found, err := client.FindActiveUserByEmail(t.Context(), sandbox.ManagerEmail); err != nil || !found {
					t.Errorf("lookup: %v, %v", found, err)
				}
			})
		}
		wg.Wait()
		// Lookups that start while a load is under way join it.
		if n := srv.CountRequests("GET /v1/users", 0); n < 1 || n > 2 {
			t.Errorf("%d user listings for %d concurrent lookups, want one (two at worst)", n, callers)
		}
	})

	t.Run("a_short_ttl_reloads", func(t *testing.T) {
		opts := testOptions(srv, nil)
		opts.UserCacheTTL = time.Nanosecond
		short := newClient(t, opts)
		srv.ClearRequestLog()
		for range 2 {
			if _, _, err := short.FindActiveUserByEmail(t.Context(), sandbox.ManagerEmail); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.CountRequests("GET /v1/users", 0); n != 2 {
			t.Errorf("%d user listings, want 2", n)
		}
	})
}

func TestListUsersPagesAndRefusesOutOfRangePaging(t *testing.T) {
	srv := startSandbox(t)
	client := newClient(t, testOptions(srv, nil))
	var all []oneflow.User
	for offset := 0; ; offset += 4 {
		page, err := client.ListUsers(t.Context(), 4, offset)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Users...)
		if !page.HasNext {
			break
		}
	}
	if len(all) != 6 {
		t.Fatalf("%d users over the pages, want 6", len(all))
	}
	for _, bad := range [][2]int{{101, 0}, {-1, 0}, {10, 19901}, {10, -1}} {
		if _, err := client.ListUsers(t.Context(), bad[0], bad[1]); err == nil {
			t.Errorf("ListUsers(%d, %d) was accepted", bad[0], bad[1])
		}
	}
}

func TestDownloadContractFileFollowsTheRedirectToAValidPDF(t *testing.T) {
	srv := startSandbox(t)
	client := newClient(t, testOptions(srv, nil))
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail, EmployeeNumber: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	read := func() []byte {
		t.Helper()
		rc, err := client.DownloadContractFile(t.Context(), c.ID, oneflow.ContractPDFFileID)
		if err != nil {
			t.Fatalf("DownloadContractFile: %v", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := read()
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
	}
	if _, err := pdfcheck.Check(b); err != nil {
		t.Fatalf("not a valid PDF: %v", err)
	}
	// The sandbox's storage refuses requests carrying the token: a 200
	// there proves the client dropped it.
	if n := srv.CountRequests("GET /_storage/{key}", http.StatusOK); n != 1 {
		t.Fatalf("%d successful storage requests, want 1", n)
	}

	srv.SetLargePDF(3 << 20)
	large := read()
	if len(large) != 3<<20 {
		t.Fatalf("%d bytes, want %d", len(large), 3<<20)
	}
	if _, err := pdfcheck.Check(large); err != nil {
		t.Fatalf("the large PDF is not valid: %v", err)
	}

	if _, err := client.DownloadContractFile(t.Context(), c.ID, 2); !errors.Is(err, oneflow.ErrNotFound) {
		t.Fatalf("file 2: %v, want ErrNotFound", err)
	}
}

func TestTheStorageHostNeverReceivesOneflowCredentials(t *testing.T) {
	var storageHeaders http.Header
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storageHeaders = r.Header.Clone()
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = io.WriteString(w, "%PDF-1.4 test")
	}))
	defer storage.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/bucket/contract.pdf?X-Amz-Signature=abc", http.StatusFound)
	}))
	defer api.Close()
	client := newClient(t, oneflow.Options{BaseURL: api.URL + "/v1", Token: "tok-123", UserEmail: "api@example.se",
		Logger: slog.New(slog.DiscardHandler)})
	rc, err := client.DownloadContractFile(t.Context(), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	_ = rc.Close()
	if string(b) != "%PDF-1.4 test" {
		t.Fatalf("body %q", b)
	}
	if storageHeaders.Get(oneflow.HeaderAPIToken) != "" || storageHeaders.Get(oneflow.HeaderUserEmail) != "" {
		t.Fatalf("the storage host received Oneflow credentials: %v", storageHeaders)
	}
}

func TestEnsureTemplateTypeFieldsAddsOnlyWhatIsMissingAndNeverDropsAdminFields(t *testing.T) {
	srv := startSandbox(t)
	client := newClient(t, testOptions(srv, nil))
	ctx := t.Context()
	want := oneflow.FlexHRMDataFields()

	t.Run("a_complete_type_is_left_alone", func(t *testing.T) {
		srv.ClearRequestLog()
		res, err := client.EnsureTemplateTypeFields(ctx, "flex hrm", want)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created || len(res.Added) != 0 || res.Kept != 15 || res.TemplateType.ID != sandbox.TemplateTypeFlexHRM {
			t.Fatalf("result %+v", res)
		}
		if n := srv.CountRequests("PUT /v1/template_types/{id}/data_fields", 0); n != 0 {
			t.Fatalf("%d replaces of a complete type, want 0", n)
		}
	})

	t.Run("missing_fields_are_added_and_an_admins_field_survives_with_its_attributes", func(t *testing.T) {
		// An admin removed two of ours and added their own field.
		existing, err := client.ListTemplateTypeDataFields(ctx, sandbox.TemplateTypeFlexHRM)
		if err != nil {
			t.Fatal(err)
		}
		kept := append([]oneflow.TemplateTypeDataField(nil), existing[2:]...)
		kept = append(kept, oneflow.TemplateTypeDataField{CustomID: "admin_cost_center", Name: "Cost center", Description: "set by HR"})
		if err := client.SetTemplateTypeDataFields(ctx, sandbox.TemplateTypeFlexHRM, kept); err != nil {
			t.Fatal(err)
		}
		res, err := client.EnsureTemplateTypeFields(ctx, oneflow.FlexHRMTemplateTypeName, want)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.Added) != fmt.Sprint([]string{oneflow.CustomIDEmployeeNumber, oneflow.CustomIDFirstName}) || res.Kept != 14 {
			t.Fatalf("result %+v", res)
		}
		after, err := client.ListTemplateTypeDataFields(ctx, sandbox.TemplateTypeFlexHRM)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]oneflow.TemplateTypeDataField{}
		for _, f := range after {
			have[f.CustomID] = f
		}
		if len(after) != 16 || have["admin_cost_center"].Description != "set by HR" {
			t.Fatalf("fields after ensuring: %+v", after)
		}
		for _, f := range want {
			if _, ok := have[f.CustomID]; !ok {
				t.Errorf("%s is missing after ensuring", f.CustomID)
			}
		}
	})

	t.Run("a_missing_type_is_created_with_every_field", func(t *testing.T) {
		res, err := client.EnsureTemplateTypeFields(ctx, "Flex HRM (second account)", want)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Created || len(res.Added) != 15 {
			t.Fatalf("result %+v", res)
		}
		fields, err := client.ListTemplateTypeDataFields(ctx, res.TemplateType.ID)
		if err != nil || len(fields) != 15 {
			t.Fatalf("%d fields, %v", len(fields), err)
		}
	})

	t.Run("two_types_of_the_same_name_are_refused", func(t *testing.T) {
		if _, err := client.CreateTemplateType(ctx, oneflow.NewTemplateType{Name: "FLEX HRM"}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.EnsureTemplateTypeFields(ctx, oneflow.FlexHRMTemplateTypeName, want); err == nil || !strings.Contains(err.Error(), "2 template types") {
			t.Fatalf("EnsureTemplateTypeFields with two matching types: %v", err)
		}
	})

	t.Run("bad_input_is_refused_before_any_call", func(t *testing.T) {
		for _, fields := range [][]oneflow.TemplateTypeDataField{
			{{CustomID: "", Name: "x"}},
			{{CustomID: "a", Name: ""}},
			{{CustomID: "a", Name: "x"}, {CustomID: "a", Name: "y"}},
		} {
			if _, err := client.EnsureTemplateTypeFields(ctx, "Anything", fields); err == nil {
				t.Errorf("fields %+v were accepted", fields)
			}
		}
		if _, err := client.EnsureTemplateTypeFields(ctx, " ", want); err == nil {
			t.Error("an empty type name was accepted")
		}
	})
}

func TestTemplateTypeCalls(t *testing.T) {
	srv := startSandbox(t)
	client := newClient(t, testOptions(srv, nil))
	ctx := t.Context()
	types, err := client.ListTemplateTypes(ctx)
	if err != nil || len(types) != 2 {
		t.Fatalf("ListTemplateTypes: %d, %v", len(types), err)
	}
	tt, err := client.GetTemplateType(ctx, sandbox.TemplateTypeFlexHRM)
	if err != nil || tt.Name != oneflow.FlexHRMTemplateTypeName {
		t.Fatalf("GetTemplateType: %+v, %v", tt, err)
	}
	tmpl, err := client.GetTemplate(ctx, sandbox.TemplateNoEmployeeNumber)
	if err != nil || tmpl.TemplateType.ID != sandbox.TemplateTypeFlexHRM {
		t.Fatalf("GetTemplate: %+v, %v", tmpl, err)
	}
	if _, err := client.GetTemplateType(ctx, 999); !errors.Is(err, oneflow.ErrNotFound) {
		t.Fatalf("an unknown template type: %v", err)
	}
	if _, err := client.CreateTemplateType(ctx, oneflow.NewTemplateType{}); err == nil {
		t.Fatal("a template type without a name was accepted")
	}
}
