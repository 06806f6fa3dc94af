package service_test

import (
	"strings"
	"testing"

	"github.com/flexflow/flexflow/libs/oneflow"
	ofsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
)

// Seeded templates of the Oneflow sandbox.
const (
	templateEmail        = 11
	templateSMS          = 12
	templateEmailAndSMS  = 13
	templateSameDevice   = 14
	templateNone         = 15
	templateSMSTwoStep   = 16
	templateNoNumber     = 17
	templateNonFlex      = 18
	managerEmail         = "maria.manager@example.se"
	annaEmail            = "anna.lindstrom@example.se"
	annaTemplateName     = "Anna Lindström - Employment contract (email)"
)

func create(t *testing.T, e *testenv.Env, template int64, number string) int64 {
	t.Helper()
	c, err := e.Oneflow.CreateContract(ofsandbox.CreateContractRequest{TemplateID: template, EmployeeNumber: number})
	if err != nil {
		t.Fatalf("create contract: %v", err)
	}
	return c.ID
}

func contract(t *testing.T, e *testenv.Env, id int64) oneflow.Contract {
	t.Helper()
	c, err := e.Oneflow.Contract(id)
	if err != nil {
		t.Fatalf("read contract: %v", err)
	}
	return c
}

func field(c oneflow.Contract, customID string) string {
	v, _ := oneflow.DataFieldValue(c, customID)
	return v
}

type participantView struct {
	party     int64
	myParty   bool
	email     string
	signatory bool
}

func participants(c oneflow.Contract) []participantView {
	var out []participantView
	for _, p := range c.Parties {
		for _, pp := range p.Participants {
			out = append(out, participantView{party: p.ID, myParty: p.MyParty, email: strings.ToLower(pp.Email), signatory: pp.Signatory})
		}
	}
	return out
}

func countEmail(c oneflow.Contract, email string) int {
	n := 0
	for _, p := range participants(c) {
		if p.email == strings.ToLower(email) {
			n++
		}
	}
	return n
}

func hasStep(entries []*eventsv1.SyncLogEntry, step string, outcome eventsv1.Outcome) *eventsv1.SyncLogEntry {
	for _, e := range entries {
		if e.GetStep() == step && e.GetOutcome() == outcome {
			return e
		}
	}
	return nil
}

func TestFetchFillsFieldsAddsParticipantAndManagerAndNamesTheContract(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()

	c := contract(t, e, id)
	want := map[string]string{
		oneflow.CustomIDEmployeeNumber:     "1001",
		oneflow.CustomIDFirstName:          "Anna",
		oneflow.CustomIDSurname:            "Lindström",
		oneflow.CustomIDEmailWork:          annaEmail,
		oneflow.CustomIDMobilePhonePrivate: "+46701740605",
		oneflow.CustomIDImmediateManager:   "Maria Manager",
	}
	for k, v := range want {
		if got := field(c, k); got != v {
			t.Errorf("field %s = %q, want %q", k, got, v)
		}
	}
	filled := 0
	for _, f := range c.DataFields {
		if f.Value != "" {
			filled++
		}
	}
	t.Logf("%d of %d fields hold a value", filled, len(c.DataFields))
	if countEmail(c, annaEmail) != 1 {
		t.Errorf("employee participants = %d, want 1: %+v", countEmail(c, annaEmail), participants(c))
	}
	if countEmail(c, managerEmail) != 1 {
		t.Errorf("manager participants = %d, want 1: %+v", countEmail(c, managerEmail), participants(c))
	}
	for _, p := range participants(c) {
		if p.email == managerEmail && (!p.myParty || p.signatory) {
			t.Errorf("manager must be a non-signing owner-side participant: %+v", p)
		}
		if p.email == annaEmail && (p.myParty || !p.signatory) {
			t.Errorf("employee must be a signing counterparty: %+v", p)
		}
	}
	if c.Private.Name != annaTemplateName {
		t.Errorf("name = %q, want %q", c.Private.Name, annaTemplateName)
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}/data_fields", 200); n != 1 {
		t.Errorf("batch field updates = %d, want 1", n)
	}
	sync := e.Sync(id)
	if sync.GetSync().GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC || sync.GetSync().GetEmployeeNumber() != "1001" {
		t.Errorf("sync = %+v", sync.GetSync())
	}
	for _, step := range []string{"fill_data_fields", "add_participant", "add_manager", "set_name"} {
		if hasStep(sync.GetEntries(), step, eventsv1.Outcome_OUTCOME_DONE) == nil {
			t.Errorf("sync log lacks %s done: %v", step, sync.GetEntries())
		}
	}
	for _, entry := range sync.GetEntries() {
		if strings.Contains(entry.GetReason(), "@") || strings.Contains(entry.GetReason(), "+46") {
			t.Errorf("sync log leaks personal data: %q", entry.GetReason())
		}
		if entry.GetTraceId() == "" {
			t.Errorf("entry without trace id: %v", entry)
		}
	}
}
