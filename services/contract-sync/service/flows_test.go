package service_test

import (
	"fmt"
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
	templateEmail       = 11
	templateSMS         = 12
	templateEmailAndSMS = 13
	templateSameDevice  = 14
	templateNone        = 15
	templateSMSTwoStep  = 16
	templateNoNumber    = 17
	templateNonFlex     = 18
	managerEmail        = "maria.manager@example.se"
	annaEmail           = "anna.lindstrom@example.se"
	annaTemplateName    = "Anna Lindström - Employment contract (email)"
)

func create(t *testing.T, e *testenv.Env, template int64, number string) int64 {
	t.Helper()
	return createTB(t, e, template, number)
}

func createTB(t testing.TB, e *testenv.Env, template int64, number string) int64 {
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
	e := testenv.New(t, testenv.Options{Logger: testLogger(t)})
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

func flexCount(e *testenv.Env, method, pathID string) int {
	n := 0
	for _, r := range e.Flex.Requests() {
		if r.Method == method && r.PathID == pathID && r.Status < 300 {
			n++
		}
	}
	return n
}

func TestNumberChangedInDraftRefreshesFieldsAndReplacesTheParticipantFlexflowAdded(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	if err := e.Oneflow.SetDataField(id, oneflow.CustomIDEmployeeNumber, "1002"); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	c := contract(t, e, id)
	if field(c, oneflow.CustomIDFirstName) != "Bo" || field(c, oneflow.CustomIDSurname) != "Ek" {
		t.Errorf("fields not refreshed: %q %q", field(c, oneflow.CustomIDFirstName), field(c, oneflow.CustomIDSurname))
	}
	if field(c, oneflow.CustomIDImmediateManager) != "" {
		t.Errorf("Bo has no manager; field = %q", field(c, oneflow.CustomIDImmediateManager))
	}
	if countEmail(c, annaEmail) != 0 || countEmail(c, "bo.ek@example.se") != 1 {
		t.Errorf("participants = %+v", participants(c))
	}
	if countEmail(c, managerEmail) != 0 {
		t.Errorf("Anna's manager should have been removed with her: %+v", participants(c))
	}
	if c.Private.Name != "Bo Ek - Employment contract (email)" {
		t.Errorf("name = %q", c.Private.Name)
	}
	if e.Sync(id).GetSync().GetEmployeeNumber() != "1002" {
		t.Errorf("sync = %+v", e.Sync(id).GetSync())
	}
}

func TestAnAdminTypedNameIsKeptAndParticipantsFlexflowDidNotAddAreNeverTouched(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Oneflow.PauseWebhooks()
	name := "Special agreement"
	c, err := e.Oneflow.CreateContract(ofsandbox.CreateContractRequest{TemplateID: templateEmail, EmployeeNumber: "1001", Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	before := len(participants(c))
	e.Oneflow.ResumeWebhooks()
	e.Idle()
	if err := e.Oneflow.SetDataField(c.ID, oneflow.CustomIDEmployeeNumber, "1002"); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	after := contract(t, e, c.ID)
	if after.Private.Name != name {
		t.Errorf("name = %q, want the admin's", after.Private.Name)
	}
	if countEmail(after, "olle.organizer@acme.example") != 1 {
		t.Errorf("organizer touched: %+v", participants(after))
	}
	if got := len(participants(after)); got != before+1 {
		t.Errorf("participants %d → %d, want one employee added: %+v", before, got, participants(after))
	}
}

func TestEachDeliveryChannelDecidesWhetherTheEmployeeIsAdded(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	tests := []struct {
		name     string
		template int64
		number   string
		email    string
		added    bool
	}{
		{"email_channel_with_a_work_email_adds", templateEmail, "1001", annaEmail, true},
		{"sms_channel_with_a_mobile_adds", templateSMS, "1001", annaEmail, true},
		{"sms_channel_without_a_mobile_skips", templateSMS, "1003", "cecilia.skottdag@example.se", false},
		{"email_and_sms_with_both_adds", templateEmailAndSMS, "1002", "bo.ek@example.se", true},
		{"email_and_sms_without_a_mobile_skips", templateEmailAndSMS, "1003", "cecilia.skottdag@example.se", false},
		{"same_device_never_adds", templateSameDevice, "1001", annaEmail, false},
		{"no_delivery_never_adds", templateNone, "1001", annaEmail, false},
		{"sms_two_step_without_a_mobile_skips", templateSMSTwoStep, "1003", "cecilia.skottdag@example.se", false},
		{"sms_two_step_with_a_mobile_adds", templateSMSTwoStep, "1002", "bo.ek@example.se", true},
	}
	ids := make([]int64, len(tests))
	for i, tt := range tests {
		ids[i] = create(t, e, tt.template, tt.number)
	}
	e.Idle()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := contract(t, e, ids[i])
			got := countEmail(c, tt.email)
			if tt.added && got != 1 || !tt.added && got != 0 {
				t.Errorf("employee participants = %d, want added=%v", got, tt.added)
			}
			step := hasStep(e.Sync(ids[i]).GetEntries(), "add_participant", eventsv1.Outcome_OUTCOME_SKIPPED)
			if !tt.added && step == nil {
				t.Error("a skipped participant needs a sync log entry")
			}
		})
	}
}

func TestManagerAlreadyAParticipantIsNotAddedAgain(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	client, err := oneflow.New(oneflow.Options{BaseURL: e.Oneflow.APIURL(), Token: e.Oneflow.APIToken(),
		UserEmail: e.Oneflow.UserEmail(), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	e.Oneflow.PauseWebhooks()
	c, err := e.Oneflow.CreateContract(ofsandbox.CreateContractRequest{TemplateID: templateEmail, EmployeeNumber: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := oneflow.OwnerSideParty(c)
	if _, err := client.AddParticipant(t.Context(), c.ID, owner.ID, oneflow.NewParticipant{Name: "Maria Manager", Email: "MARIA.manager@example.se"}); err != nil {
		t.Fatal(err)
	}
	e.Oneflow.ResumeWebhooks()
	e.Idle()
	after := contract(t, e, c.ID)
	if countEmail(after, managerEmail) != 1 {
		t.Errorf("manager participants = %d, want the one already there", countEmail(after, managerEmail))
	}
	entry := hasStep(e.Sync(c.ID).GetEntries(), "add_manager", eventsv1.Outcome_OUTCOME_SKIPPED)
	if entry == nil || !strings.Contains(entry.GetReason(), "already a participant") {
		t.Errorf("sync log: %v", e.Sync(c.ID).GetEntries())
	}
}

func TestManagerWithoutEmailOrWithoutManagerIsAWarning(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	noManager := create(t, e, templateEmail, "1002")
	managerNoEmail := create(t, e, templateEmail, "1003")
	e.Idle()
	for _, id := range []int64{noManager, managerNoEmail} {
		if hasStep(e.Sync(id).GetEntries(), "add_manager", eventsv1.Outcome_OUTCOME_WARNING) == nil {
			t.Errorf("contract %d: no manager warning in %v", id, e.Sync(id).GetEntries())
		}
	}
}

func TestUnknownEmployeeNumberIsLoggedAndTheContractIsLeftAlone(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "9999")
	e.Idle()
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}/data_fields", 200) + e.Oneflow.CountRequests("POST /v1/contracts/{id}/parties", 201) +
		e.Oneflow.CountRequests("PUT /v1/contracts/{id}", 200); n != 0 {
		t.Errorf("contract was written %d times", n)
	}
	entry := hasStep(e.Sync(id).GetEntries(), "find_employee", eventsv1.Outcome_OUTCOME_WARNING)
	if entry == nil || !strings.Contains(entry.GetReason(), "no employee with number 9999") {
		t.Errorf("sync log: %v", e.Sync(id).GetEntries())
	}
	if e.Sync(id).GetSync().GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_WAITING {
		t.Errorf("status = %v", e.Sync(id).GetSync().GetStatus())
	}
	ambiguous := create(t, e, templateEmail, "2001")
	e.Idle()
	entry = hasStep(e.Sync(ambiguous).GetEntries(), "find_employee", eventsv1.Outcome_OUTCOME_WARNING)
	if entry == nil || !strings.Contains(entry.GetReason(), "several") {
		t.Errorf("ambiguous sync log: %v", e.Sync(ambiguous).GetEntries())
	}
}

func TestEmptyEmployeeNumberWaits(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "")
	e.Idle()
	if hasStep(e.Sync(id).GetEntries(), "read_employee_number", eventsv1.Outcome_OUTCOME_SKIPPED) == nil {
		t.Errorf("sync log: %v", e.Sync(id).GetEntries())
	}
	if err := e.Oneflow.SetDataField(id, oneflow.CustomIDEmployeeNumber, "1001"); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if field(contract(t, e, id), oneflow.CustomIDFirstName) != "Anna" {
		t.Error("typing the number later did not fetch")
	}
}

func TestNonFlexTemplatesAndTemplatesWithoutTheNumberFieldAreIgnored(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	nonFlex := create(t, e, templateNonFlex, "")
	noNumber := create(t, e, templateNoNumber, "")
	e.Idle()
	for _, id := range []int64{nonFlex, noNumber} {
		if st := e.Sync(id).GetSync().GetStatus(); st != contractsyncv1.SyncStatus_SYNC_STATUS_IGNORED {
			t.Errorf("contract %d status = %v", id, st)
		}
	}
	if n := len(e.Flex.Requests()); n != 0 {
		t.Errorf("Flex HRM was called %d times for contracts flexflow must ignore", n)
	}
	e.Oneflow.ClearRequestLog()
	if err := e.Oneflow.Publish(nonFlex); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if n := len(e.Oneflow.RequestLog()); n != 0 {
		t.Errorf("an ignored contract's next event cost %d Oneflow calls", n)
	}
}

func TestOurOwnFieldWritesEchoBackAsANoOp(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	echoes := 0
	for _, d := range e.Oneflow.Deliveries() {
		if d.ContractID == id && d.EventType == oneflow.EventDataFieldUpdate {
			echoes++
		}
	}
	if echoes == 0 {
		t.Fatal("the sandbox sent no data_field:update for our writes; the test proves nothing")
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}/data_fields", 200); n != 1 {
		t.Errorf("field writes = %d, want 1 (echo looped)", n)
	}
	if n := flexCount(e, "GET", "P1"); n != 1 {
		t.Errorf("employee lookups = %d, want 1", n)
	}
	// Each echo may cost one contract read, no more; later echoes make
	// earlier ones redundant, so most are coalesced.
	reads := e.Oneflow.CountRequests("GET /v1/contracts/{id}", 200)
	t.Logf("%d echoes cost %d contract reads (1 is the fetch's own)", echoes, reads)
	if reads > echoes+1 {
		t.Errorf("contract reads = %d for %d echoes", reads, echoes)
	}
}

func TestOneflowRefusingTheManagerIsAWarningAndTheRestOfTheFetchStands(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Oneflow.PauseWebhooks()
	id := create(t, e, templateEmail, "1001")
	c := contract(t, e, id)
	owner, _ := oneflow.OwnerSideParty(c)
	e.Oneflow.FailNext(ofsandbox.FailRule{Method: "POST", Path: fmt.Sprintf("/v1/contracts/%d/parties/%d/participants", id, owner.ID), Count: 5, Status: 422})
	e.Oneflow.ResumeWebhooks()
	e.Idle()
	sync := e.Sync(id)
	if hasStep(sync.GetEntries(), "add_manager", eventsv1.Outcome_OUTCOME_WARNING) == nil {
		t.Errorf("no manager warning: %v", sync.GetEntries())
	}
	if sync.GetSync().GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC || countEmail(contract(t, e, id), annaEmail) != 1 {
		t.Errorf("sync = %+v", sync.GetSync())
	}
}
