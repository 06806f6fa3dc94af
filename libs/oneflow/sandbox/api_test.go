package sandbox_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

func TestTheAPIAuthenticatesTokenAndActiveUserEmail(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	ping := srv.APIURL() + "/ping"
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"token_and_user_email_are_accepted", authHeaders(srv), http.StatusOK},
		{"the_user_email_is_matched_ignoring_case", map[string]string{
			oneflow.HeaderAPIToken: srv.APIToken(), oneflow.HeaderUserEmail: strings.ToUpper(srv.UserEmail())}, http.StatusOK},
		{"any_active_users_email_is_accepted", map[string]string{
			oneflow.HeaderAPIToken: srv.APIToken(), oneflow.HeaderUserEmail: sandbox.ManagerEmail}, http.StatusOK},
		{"no_headers_are_refused", nil, http.StatusUnauthorized},
		{"a_wrong_token_is_refused", map[string]string{
			oneflow.HeaderAPIToken: "wrong", oneflow.HeaderUserEmail: srv.UserEmail()}, http.StatusUnauthorized},
		{"a_missing_user_email_is_refused", map[string]string{oneflow.HeaderAPIToken: srv.APIToken()}, http.StatusUnauthorized},
		{"an_inactive_users_email_is_refused", map[string]string{
			oneflow.HeaderAPIToken: srv.APIToken(), oneflow.HeaderUserEmail: "ivar.inactive@acme.example"}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := apiRequest(t, http.MethodGet, ping, tt.headers, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want != http.StatusOK {
				e := decodeError(t, body)
				if e.ErrorCode != 4010000 || e.RequestID == "" || e.RequestID != resp.Header.Get("X-Request-Id") {
					t.Fatalf("error body %+v", e)
				}
			}
		})
	}

	t.Run("a_revoked_token_is_refused_until_restored", func(t *testing.T) {
		srv.RevokeToken()
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d after revoking, want 401", resp.StatusCode)
		}
		srv.RestoreToken()
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d after restoring, want 200", resp.StatusCode)
		}
	})
}

func TestListsArePagedWithinOneflowsLimits(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	tests := []struct {
		name, query string
		want        int
		problem     string
		count       int
		next        bool
	}{
		{"a_page_of_two_links_the_next", "?limit=2&offset=0", http.StatusOK, "", 2, true},
		{"the_last_page_has_no_next", "?limit=2&offset=4", http.StatusOK, "", 2, false},
		{"an_offset_past_the_end_is_an_empty_page", "?limit=2&offset=100", http.StatusOK, "", 0, false},
		{"a_limit_over_100_is_refused", "?limit=101", http.StatusBadRequest, "limit", 0, false},
		{"a_limit_of_0_is_refused", "?limit=0", http.StatusBadRequest, "limit", 0, false},
		{"an_offset_over_19900_is_refused", "?offset=19901", http.StatusBadRequest, "offset", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := apiRequest(t, http.MethodGet, srv.APIURL()+"/users"+tt.query, authHeaders(srv), nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.problem != "" {
				if e := decodeError(t, body); len(e.ParameterProblems[tt.problem]) == 0 || e.ErrorCode != 4000000 {
					t.Fatalf("error body %+v, want a problem with %s", e, tt.problem)
				}
				return
			}
			var page struct {
				Links map[string]struct {
					Href *string `json:"href"`
				} `json:"_links"`
				Count int            `json:"count"`
				Data  []oneflow.User `json:"data"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			if page.Count != 6 || len(page.Data) != tt.count || (page.Links["next"].Href != nil) != tt.next || page.Links["self"].Href == nil {
				t.Fatalf("page %+v", page)
			}
		})
	}
}

func TestParticipantLimitsAndOwnerSideRules(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	client := newClient(t, srv)
	ctx := t.Context()
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := oneflow.OwnerSideParty(c)

	t.Run("an_owner_side_participant_must_be_an_active_user", func(t *testing.T) {
		for _, email := range []string{"ivar.inactive@acme.example", "stranger@example.se"} {
			_, err := client.AddParticipant(ctx, c.ID, owner.ID, oneflow.NewParticipant{Name: "X", Email: email})
			var apiErr *oneflow.APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, oneflow.ErrValidation) || apiErr.ParameterProblems["email"] == nil {
				t.Fatalf("adding %s to the owner side: %v", email, err)
			}
		}
	})

	t.Run("an_owner_side_email_cannot_be_changed_but_a_counterpartys_can", func(t *testing.T) {
		manager, err := client.AddParticipant(ctx, c.ID, owner.ID, oneflow.NewParticipant{Email: strings.ToUpper(sandbox.ManagerEmail)})
		if err != nil {
			t.Fatalf("adding the manager: %v", err)
		}
		if manager.Name != "Maria Manager" || manager.DeliveryChannel != oneflow.DeliveryChannelEmail {
			t.Errorf("the manager got the defaults wrong: %+v", manager)
		}
		other := "hanna.hr@acme.example"
		if _, err := client.UpdateParticipant(ctx, c.ID, owner.ID, manager.ID, oneflow.ParticipantUpdate{Email: &other}); !errors.Is(err, oneflow.ErrValidation) {
			t.Fatalf("changing an owner-side email: %v, want ErrValidation", err)
		}
		same := strings.ToUpper(sandbox.ManagerEmail)
		if _, err := client.UpdateParticipant(ctx, c.ID, owner.ID, manager.ID, oneflow.ParticipantUpdate{Email: &same}); err != nil {
			t.Fatalf("sending the same owner-side email in another case: %v", err)
		}
		party, err := client.AddCounterparty(ctx, c.ID, oneflow.NewParticipant{Name: "Anna", Email: "anna@example.se", Signatory: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.RemoveParticipant(ctx, c.ID, owner.ID, manager.ID); err != nil {
			t.Fatal(err)
		}
		newEmail := "anna.andersson@example.se"
		updated, err := client.UpdateParticipant(ctx, c.ID, party.ID, party.Participants[0].ID, oneflow.ParticipantUpdate{Email: &newEmail})
		if err != nil || updated.Email != newEmail {
			t.Fatalf("changing a counterparty email: %+v, %v", updated, err)
		}
		if err := client.RemoveParticipant(ctx, c.ID, party.ID, party.Participants[0].ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a_delivery_channel_needs_what_it_sends_to", func(t *testing.T) {
		sms, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateSMS})
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.AddCounterparty(ctx, sms.ID, oneflow.NewParticipant{Name: "Anna", Email: "anna@example.se", Signatory: true})
		var apiErr *oneflow.APIError
		if !errors.As(err, &apiErr) || apiErr.ParameterProblems["participant.phone_number"] == nil {
			t.Fatalf("an SMS participant without a phone number: %v", err)
		}
	})

	t.Run("the_30th_owner_side_and_the_41st_participant_are_refused", func(t *testing.T) {
		// The contract starts with the organizer: 28 more make 29 owner-side.
		for i := range oneflow.MaxOwnerSideParticipants - 1 {
			if _, err := client.AddParticipant(ctx, c.ID, owner.ID, oneflow.NewParticipant{Email: "hanna.hr@acme.example"}); err != nil {
				t.Fatalf("owner-side participant %d: %v", i+2, err)
			}
		}
		if _, err := client.AddParticipant(ctx, c.ID, owner.ID, oneflow.NewParticipant{Email: "hanna.hr@acme.example"}); !errors.Is(err, oneflow.ErrValidation) {
			t.Fatalf("the 30th owner-side participant: %v, want ErrValidation", err)
		}
		for i := oneflow.MaxOwnerSideParticipants; i < oneflow.MaxParticipants; i++ {
			if _, err := client.AddCounterparty(ctx, c.ID, oneflow.NewParticipant{
				Name: fmt.Sprintf("Signer %d", i+1), Email: fmt.Sprintf("signer%d@example.se", i+1), Signatory: true}); err != nil {
				t.Fatalf("participant %d: %v", i+1, err)
			}
		}
		_, err := client.AddCounterparty(ctx, c.ID, oneflow.NewParticipant{Name: "Signer 41", Email: "signer41@example.se", Signatory: true})
		if !errors.Is(err, oneflow.ErrValidation) {
			t.Fatalf("the 41st participant: %v, want ErrValidation", err)
		}
		got, _ := srv.Contract(c.ID)
		total := 0
		for _, p := range got.Parties {
			total += len(p.Participants)
		}
		if total != oneflow.MaxParticipants {
			t.Fatalf("%d participants, want %d", total, oneflow.MaxParticipants)
		}
	})
}

func TestDataFieldValuesAreLimitedTo1024Characters(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	client := newClient(t, srv)
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	// Characters, not bytes: 1024 two-byte characters fit.
	fits := strings.Repeat("å", oneflow.MaxDataFieldValueLength)
	if err := client.UpdateDataFields(t.Context(), c.ID, []oneflow.DataFieldUpdate{{CustomID: oneflow.CustomIDCity, Value: fits}}); err != nil {
		t.Fatalf("1024 characters: %v", err)
	}
	err = client.UpdateDataFields(t.Context(), c.ID, []oneflow.DataFieldUpdate{
		{CustomID: oneflow.CustomIDCountry, Value: "Sverige"},
		{CustomID: oneflow.CustomIDCity, Value: fits + "x"},
	})
	var apiErr *oneflow.APIError
	if !errors.As(err, &apiErr) || apiErr.ParameterProblems["data_fields[1].value"] == nil {
		t.Fatalf("1025 characters: %v, want a problem with data_fields[1].value", err)
	}
	got, _ := srv.Contract(c.ID)
	if v, _ := oneflow.DataFieldValue(got, oneflow.CustomIDCountry); v != "" {
		t.Fatalf("a refused batch changed another field: %q", v)
	}
}

func TestAPIWritesFollowTheContractsState(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	client := newClient(t, srv)
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Publish(c.ID); err != nil {
		t.Fatal(err)
	}
	err = client.UpdateDataFields(t.Context(), c.ID, []oneflow.DataFieldUpdate{{CustomID: oneflow.CustomIDCity, Value: "Lund"}})
	if !errors.Is(err, oneflow.ErrConflict) {
		t.Fatalf("writing a field of a pending contract: %v, want ErrConflict", err)
	}
	if err := client.RenameContract(t.Context(), c.ID, "Renamed while pending"); err != nil {
		t.Fatalf("renaming a pending contract: %v", err)
	}
	if err := srv.Decline(c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := client.RenameContract(t.Context(), c.ID, "x"); !errors.Is(err, oneflow.ErrConflict) {
		t.Fatalf("renaming a declined contract: %v, want ErrConflict", err)
	}
	if err := srv.Publish(c.ID); err == nil {
		t.Fatal("publishing a declined contract succeeded")
	}
}

func TestTestKnobs(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	ping := srv.APIURL() + "/ping"

	t.Run("the_next_n_calls_of_a_path_fail_with_the_chosen_status_and_oneflows_body", func(t *testing.T) {
		srv.FailNext(sandbox.FailRule{Path: "/v1/ping", Count: 2, Status: http.StatusBadGateway})
		for i := range 2 {
			resp, body := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil)
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("call %d: status %d", i+1, resp.StatusCode)
			}
			if e := decodeError(t, body); e.ErrorCode != 5020000 || e.RequestID == "" {
				t.Fatalf("error body %+v", e)
			}
		}
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("the third call: %d", resp.StatusCode)
		}
	})

	t.Run("a_failure_rate_of_1_fails_every_call_and_0_none", func(t *testing.T) {
		srv.SetFailureRate("/v1/ping", 1, http.StatusBadGateway)
		for range 3 {
			if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d at failure rate 1", resp.StatusCode)
			}
		}
		srv.SetFailureRate("/v1/ping", 0)
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d at failure rate 0", resp.StatusCode)
		}
	})

	t.Run("a_rate_limit_answers_429_with_oneflows_body_and_no_retry_after", func(t *testing.T) {
		srv.RateLimitNext(1)
		resp, body := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
			t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if e := decodeError(t, body); e.ErrorCode != 4290000 || e.Title != "Too Many Requests" || e.Status != 429 {
			t.Fatalf("error body %+v", e)
		}
		srv.SetRateLimit(2, time.Hour)
		var statuses []int
		for range 3 {
			resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil)
			statuses = append(statuses, resp.StatusCode)
		}
		if fmt.Sprint(statuses) != "[200 200 429]" {
			t.Fatalf("statuses %v with 2 requests per hour", statuses)
		}
		srv.ClearRateLimit()
	})

	t.Run("latency_delays_calls_by_at_least_the_setting", func(t *testing.T) {
		srv.SetLatency("/v1/ping", 30*time.Millisecond)
		defer srv.SetLatency("/v1/ping", 0)
		srv.ClearRequestLog()
		apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil)
		log := srv.RequestLog()
		if len(log) != 1 || log[0].DurationMS < 30 {
			t.Fatalf("request log %+v", log)
		}
	})

	t.Run("the_request_log_names_routes_and_statuses", func(t *testing.T) {
		srv.ClearRequestLog()
		apiRequest(t, http.MethodGet, srv.APIURL()+"/contracts/999999", authHeaders(srv), nil)
		srv.FailNext(sandbox.FailRule{PathPrefix: "/v1/contracts", Count: 1, Status: 503})
		apiRequest(t, http.MethodGet, srv.APIURL()+"/contracts/999999", authHeaders(srv), nil)
		if n := srv.CountRequests("GET /v1/contracts/{id}", http.StatusNotFound); n != 1 {
			t.Errorf("%d logged 404s", n)
		}
		if n := srv.CountRequests("GET /v1/contracts/{id}", http.StatusServiceUnavailable); n != 1 {
			t.Errorf("%d logged 503s", n)
		}
	})

	t.Run("the_state_dump_and_reset", func(t *testing.T) {
		if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
			t.Fatal(err)
		}
		resp, body := apiRequest(t, http.MethodGet, srv.URL()+"/_sandbox/state", nil, nil)
		var dump sandbox.StateDump
		if err := json.Unmarshal(body, &dump); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("state dump %d: %v", resp.StatusCode, err)
		}
		if len(dump.Contracts) != 1 || len(dump.Users) != 6 || len(dump.TemplateTypes) != 2 || len(dump.Templates) != 8 {
			t.Fatalf("dump has %d contracts, %d users, %d template types, %d templates",
				len(dump.Contracts), len(dump.Users), len(dump.TemplateTypes), len(dump.Templates))
		}
		if resp, _ := apiRequest(t, http.MethodPost, srv.URL()+"/_sandbox/reset", nil, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("reset: %d", resp.StatusCode)
		}
		if d := srv.State(); len(d.Contracts) != 0 || len(srv.RequestLog()) != 0 {
			t.Fatalf("after reset: %d contracts, %d logged requests", len(d.Contracts), len(srv.RequestLog()))
		}
	})

	t.Run("knobs_work_over_http", func(t *testing.T) {
		for _, k := range []struct{ path, body string }{
			{"/_sandbox/fail", `{"path":"/v1/ping","count":1,"status":500}`},
		} {
			if resp, b := apiRequest(t, http.MethodPost, srv.URL()+k.path, nil, json.RawMessage(k.body)); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("%s: %d %s", k.path, resp.StatusCode, b)
			}
		}
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("after /_sandbox/fail: %d", resp.StatusCode)
		}
		apiRequest(t, http.MethodPost, srv.URL()+"/_sandbox/rate-limit", nil, json.RawMessage(`{"next":1}`))
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("after /_sandbox/rate-limit: %d", resp.StatusCode)
		}
		apiRequest(t, http.MethodPost, srv.URL()+"/_sandbox/token/revoke", nil, nil)
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after /_sandbox/token/revoke: %d", resp.StatusCode)
		}
		apiRequest(t, http.MethodPost, srv.URL()+"/_sandbox/token/restore", nil, nil)
		if resp, _ := apiRequest(t, http.MethodGet, ping, authHeaders(srv), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("after /_sandbox/token/restore: %d", resp.StatusCode)
		}
		if resp, b := apiRequest(t, http.MethodGet, srv.URL()+"/_sandbox/", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "/_sandbox/contracts") {
			t.Fatalf("the index: %d %s", resp.StatusCode, b)
		}
	})
}

func TestTemplateTypeDataFieldsAreReplacedAsAWhole(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	url := fmt.Sprintf("%s/template_types/%d/data_fields", srv.APIURL(), sandbox.TemplateTypeNonDisclosure)
	body := map[string]any{"data_fields": []map[string]any{
		{"id": 201, "custom_id": "nda_counterparty_company", "name": "Counterparty company", "x_admin_note": "kept"},
		{"custom_id": "nda_new", "name": "New field"},
	}}
	if resp, b := apiRequest(t, http.MethodPut, url, authHeaders(srv), body); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, b)
	}
	_, b := apiRequest(t, http.MethodGet, url, authHeaders(srv), nil)
	var page struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range page.Data {
		ids = append(ids, fmt.Sprint(f["custom_id"]))
	}
	if fmt.Sprint(ids) != "[nda_counterparty_company nda_new]" || page.Data[0]["x_admin_note"] != "kept" {
		t.Fatalf("fields after replace: %v", page.Data)
	}
	// The left-out field is gone from the type's template too.
	for _, tmpl := range srv.State().Templates {
		if tmpl.ID == sandbox.TemplateNonFlex && fmt.Sprint(tmpl.DataFields) != "[nda_counterparty_company nda_new]" {
			t.Fatalf("template fields %v", tmpl.DataFields)
		}
	}
}

func TestFile1IsRedirectedToAStorageURLThatRefusesOneflowCredentials(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := apiRequest(t, http.MethodGet, fmt.Sprintf("%s/contracts/%d/files/1?download=true", srv.APIURL(), c.ID), authHeaders(srv), nil)
	location := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(location, srv.URL()+"/_storage/") {
		t.Fatalf("status %d, Location %q", resp.StatusCode, location)
	}
	if resp, _ := apiRequest(t, http.MethodGet, location, authHeaders(srv), nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("storage with Oneflow credentials: %d, want 400", resp.StatusCode)
	}
	resp, body := apiRequest(t, http.MethodGet, location, nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(body), "%PDF-") {
		t.Fatalf("storage: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := apiRequest(t, http.MethodGet, srv.URL()+"/_storage/unknown", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an unknown storage key: %d, want 403", resp.StatusCode)
	}
	if resp, _ := apiRequest(t, http.MethodGet, fmt.Sprintf("%s/contracts/%d/files/2?download=true", srv.APIURL(), c.ID), authHeaders(srv), nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("file 2: %d, want 404", resp.StatusCode)
	}
}
