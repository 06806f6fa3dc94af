// Package contracttest is one suite of expectations about Oneflow's Public
// API, run against the sandbox in every test run and against a real Oneflow
// account when one is configured, so that the sandbox cannot drift from what
// Oneflow does without a test saying so.
//
// Against a real account (ONEFLOW_API_URL, ONEFLOW_API_TOKEN,
// ONEFLOW_USER_EMAIL) the suite only reads, unless
// ONEFLOW_CONTRACT_TEST_WRITE=1; the contract tests need a draft contract of
// the Flex HRM template type, given as ONEFLOW_CONTRACT_TEST_CONTRACT_ID
// (skipped without it).
package contracttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// Environment variables that point the suite at a real Oneflow account.
const (
	EnvAPIURL     = "ONEFLOW_API_URL"
	EnvAPIToken   = "ONEFLOW_API_TOKEN"
	EnvUserEmail  = "ONEFLOW_USER_EMAIL"
	EnvWrite      = "ONEFLOW_CONTRACT_TEST_WRITE"
	EnvContractID = "ONEFLOW_CONTRACT_TEST_CONTRACT_ID"
)

// Target is what the suite runs against.
type Target struct {
	// Options build the clients; the suite derives variants (a wrong token).
	Options oneflow.Options
	// Write allows calls that change data (always restored where possible).
	Write bool
	// DraftContract returns a draft contract of the Flex HRM template type
	// the suite may read and, with Write, change; ok false skips the tests
	// that need one.
	DraftContract func(t *testing.T) (contractID int64, ok bool)
}

// FromEnv builds the Target for a real Oneflow account from the environment;
// ok is false when the account is not configured.
func FromEnv() (Target, bool) {
	apiURL, token, email := os.Getenv(EnvAPIURL), os.Getenv(EnvAPIToken), os.Getenv(EnvUserEmail)
	if apiURL == "" || token == "" || email == "" {
		return Target{}, false
	}
	target := Target{
		Options: oneflow.Options{
			BaseURL: apiURL, Token: token, UserEmail: email,
			Logger: slog.New(slog.DiscardHandler),
			Retry:  oneflow.RetryPolicy{MaxElapsedTime: 20 * time.Second},
		},
		Write: os.Getenv(EnvWrite) == "1",
	}
	target.DraftContract = func(t *testing.T) (int64, bool) {
		id, err := strconv.ParseInt(os.Getenv(EnvContractID), 10, 64)
		if err != nil || id <= 0 {
			return 0, false
		}
		return id, true
	}
	return target, true
}

// Run runs the suite against target.
func Run(t *testing.T, target Target) {
	client, err := oneflow.New(target.Options)
	if err != nil {
		t.Fatalf("building the client: %v", err)
	}
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		t.Cleanup(cancel)
		return c
	}

	t.Run("ping_succeeds_with_the_configured_credentials", func(t *testing.T) {
		if err := client.Ping(ctx(t)); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})

	t.Run("a_wrong_token_is_refused_as_unauthorized_with_a_request_id_and_without_echoing_it", func(t *testing.T) {
		opts := target.Options
		opts.Token = "contracttest-wrong-token-" + randomHex(8)
		wrong, err := oneflow.New(opts)
		if err != nil {
			t.Fatalf("building the client: %v", err)
		}
		err = wrong.Ping(ctx(t))
		if !errors.Is(err, oneflow.ErrUnauthorized) {
			t.Fatalf("Ping with a wrong token: got %v, want ErrUnauthorized", err)
		}
		var apiErr *oneflow.APIError
		if !errors.As(err, &apiErr) || apiErr.RequestID == "" {
			t.Errorf("the error carries no request id: %#v", apiErr)
		}
		if strings.Contains(err.Error(), opts.Token) || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(opts.UserEmail)) {
			t.Errorf("the error text quotes a credential: %q", err.Error())
		}
	})

	t.Run("users_come_in_pages_and_the_api_user_is_found_active_ignoring_case", func(t *testing.T) {
		page, err := client.ListUsers(ctx(t), 1, 0)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if page.Count < 1 || len(page.Users) != 1 {
			t.Fatalf("first page of 1: count %d, %d users", page.Count, len(page.Users))
		}
		if page.HasNext != (page.Count > 1) {
			t.Errorf("HasNext %v with count %d", page.HasNext, page.Count)
		}
		user, found, err := client.FindActiveUserByEmail(ctx(t), strings.ToUpper(target.Options.UserEmail))
		if err != nil {
			t.Fatalf("FindActiveUserByEmail: %v", err)
		}
		if !found || !user.Active || user.ID == 0 {
			t.Fatalf("the API user was not found as an active user: found %v, %+v", found, user.ID)
		}
		_, found, err = client.FindActiveUserByEmail(ctx(t), "nobody-"+randomHex(6)+"@example.invalid")
		if err != nil || found {
			t.Fatalf("an unknown email: found %v, err %v", found, err)
		}
	})

	t.Run("an_unknown_contract_is_not_found", func(t *testing.T) {
		_, err := client.GetContract(ctx(t), 1<<50)
		if !errors.Is(err, oneflow.ErrNotFound) && !errors.Is(err, oneflow.ErrForbidden) {
			t.Fatalf("GetContract of an unknown id: got %v, want ErrNotFound (or ErrForbidden)", err)
		}
	})

	t.Run("template_types_are_listed", func(t *testing.T) {
		types, err := client.ListTemplateTypes(ctx(t))
		if err != nil {
			t.Fatalf("ListTemplateTypes: %v", err)
		}
		for _, tt := range types {
			if tt.ID == 0 || tt.Name == "" {
				t.Errorf("a template type without id or name: %+v", tt)
			}
		}
	})

	draft := func(t *testing.T) int64 {
		t.Helper()
		if target.DraftContract == nil {
			t.Skip("no draft contract to test with")
		}
		id, ok := target.DraftContract(t)
		if !ok {
			t.Skipf("no draft contract to test with (set %s)", EnvContractID)
		}
		return id
	}

	t.Run("a_contract_reads_with_its_fields_parties_options_and_template", func(t *testing.T) {
		id := draft(t)
		c, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		if c.ID != id || c.State == "" {
			t.Fatalf("contract %d read as id %d state %q", id, c.ID, c.State)
		}
		if _, ok := oneflow.OwnerSideParty(c); !ok {
			t.Errorf("the contract has no owner-side party")
		}
		if oneflow.PreferredDeliveryChannel(c) == "" {
			t.Errorf("the contract has no preferred delivery channel")
		}
		parties, err := client.ListParties(ctx(t), id)
		if err != nil {
			t.Fatalf("ListParties: %v", err)
		}
		if len(parties) != len(c.Parties) {
			t.Errorf("ListParties gave %d parties, the contract %d", len(parties), len(c.Parties))
		}
		if c.PrivateOwnerside.TemplateID != 0 {
			tmpl, err := client.GetTemplate(ctx(t), c.PrivateOwnerside.TemplateID)
			if err != nil {
				t.Fatalf("GetTemplate: %v", err)
			}
			if tmpl.ID != c.PrivateOwnerside.TemplateID || tmpl.TemplateType.ID != c.PrivateOwnerside.TemplateTypeID {
				t.Errorf("template %d of type %d, contract says %d of type %d", tmpl.ID, tmpl.TemplateType.ID,
					c.PrivateOwnerside.TemplateID, c.PrivateOwnerside.TemplateTypeID)
			}
		}
	})

	t.Run("file_1_downloads_as_a_pdf_through_the_storage_redirect", func(t *testing.T) {
		id := draft(t)
		rc, err := client.DownloadContractFile(ctx(t), id, oneflow.ContractPDFFileID)
		if err != nil {
			t.Fatalf("DownloadContractFile: %v", err)
		}
		defer rc.Close()
		head := make([]byte, 5)
		if _, err := io.ReadFull(rc, head); err != nil || !bytes.Equal(head, []byte("%PDF-")) {
			t.Fatalf("the file does not start like a PDF: %q, %v", head, err)
		}
	})

	write := func(t *testing.T) int64 {
		t.Helper()
		if !target.Write {
			t.Skipf("writes are off (set %s=1)", EnvWrite)
		}
		return draft(t)
	}

	t.Run("data_fields_update_in_a_batch_and_read_back", func(t *testing.T) {
		id := write(t)
		c, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		var field oneflow.DataField
		for _, f := range c.DataFields {
			if f.PrivateOwnerside.CustomID != "" && f.PrivateOwnerside.CustomID != oneflow.CustomIDEmployeeNumber {
				field = f
				break
			}
		}
		if field.PrivateOwnerside.CustomID == "" {
			t.Skip("the contract has no data field with a custom id to change")
		}
		customID := field.PrivateOwnerside.CustomID
		want := "contracttest " + randomHex(4)
		if err := client.UpdateDataFields(ctx(t), id, []oneflow.DataFieldUpdate{{CustomID: customID, Value: want}}); err != nil {
			t.Fatalf("UpdateDataFields: %v", err)
		}
		t.Cleanup(func() {
			_ = client.UpdateDataFields(context.Background(), id, []oneflow.DataFieldUpdate{{CustomID: customID, Value: field.Value}})
		})
		c, err = client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		if got, _ := oneflow.DataFieldValue(c, customID); got != want {
			t.Fatalf("%s reads %q after writing %q", customID, got, want)
		}
	})

	t.Run("a_value_over_1024_characters_is_refused_naming_the_field", func(t *testing.T) {
		id := write(t)
		c, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		if len(c.DataFields) == 0 || c.DataFields[0].PrivateOwnerside.CustomID == "" {
			t.Skip("the contract has no data field with a custom id")
		}
		err = client.UpdateDataFields(ctx(t), id, []oneflow.DataFieldUpdate{{
			CustomID: c.DataFields[0].PrivateOwnerside.CustomID, Value: strings.Repeat("x", oneflow.MaxDataFieldValueLength+1)}})
		if !errors.Is(err, oneflow.ErrValidation) {
			t.Fatalf("UpdateDataFields with 1025 characters: got %v, want ErrValidation", err)
		}
	})

	t.Run("the_contract_is_renamed_and_renamed_back", func(t *testing.T) {
		id := write(t)
		c, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		want := "contracttest " + randomHex(4)
		if err := client.RenameContract(ctx(t), id, want); err != nil {
			t.Fatalf("RenameContract: %v", err)
		}
		t.Cleanup(func() { _ = client.RenameContract(context.Background(), id, c.Private.Name) })
		got, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		if got.Private.Name != want {
			t.Fatalf("name %q after renaming to %q", got.Private.Name, want)
		}
	})

	t.Run("a_counterparty_is_added_updated_and_removed", func(t *testing.T) {
		id := write(t)
		party, err := client.AddCounterparty(ctx(t), id, oneflow.NewParticipant{
			Name: "Contract Test", Email: "contracttest-" + randomHex(4) + "@example.invalid",
			PhoneNumber: "+46700000000", Signatory: true,
		})
		if err != nil {
			t.Fatalf("AddCounterparty: %v", err)
		}
		if party.ID == 0 || party.MyParty || len(party.Participants) != 1 || party.Participants[0].ID == 0 {
			t.Fatalf("the new party is not an individual counterparty with one participant: %+v", party)
		}
		participant := party.Participants[0]
		t.Cleanup(func() { _ = client.RemoveParticipant(context.Background(), id, party.ID, participant.ID) })
		title := "Tester"
		updated, err := client.UpdateParticipant(ctx(t), id, party.ID, participant.ID, oneflow.ParticipantUpdate{Title: &title})
		if err != nil {
			t.Fatalf("UpdateParticipant: %v", err)
		}
		if updated.Title != title {
			t.Errorf("title %q after update", updated.Title)
		}
		if err := client.RemoveParticipant(ctx(t), id, party.ID, participant.ID); err != nil {
			t.Fatalf("RemoveParticipant: %v", err)
		}
		c, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		for _, p := range c.Parties {
			for _, pp := range p.Participants {
				if pp.ID == participant.ID {
					t.Fatalf("participant %d is still on the contract", participant.ID)
				}
			}
		}
	})

	t.Run("an_owner_side_participant_must_be_an_active_user", func(t *testing.T) {
		id := write(t)
		c, err := client.GetContract(ctx(t), id)
		if err != nil {
			t.Fatalf("GetContract: %v", err)
		}
		owner, ok := oneflow.OwnerSideParty(c)
		if !ok {
			t.Fatal("the contract has no owner-side party")
		}
		p, err := client.AddParticipant(ctx(t), id, owner.ID, oneflow.NewParticipant{
			Name: "Not A User", Email: "nobody-" + randomHex(6) + "@example.invalid",
			DeliveryChannel: oneflow.DeliveryChannelEmail,
		})
		if err == nil {
			_ = client.RemoveParticipant(context.Background(), id, owner.ID, p.ID)
		}
		if !errors.Is(err, oneflow.ErrValidation) {
			t.Fatalf("AddParticipant of a non-user to the owner side: got %v, want ErrValidation", err)
		}
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
