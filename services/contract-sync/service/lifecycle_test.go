package service_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flexflow/flexflow/libs/oneflow"
	ofsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

const annaID = "e0000000-0000-4000-8000-000000001001"

func anna(t *testing.T, e *testenv.Env) (city string, periods []string) {
	t.Helper()
	st := e.Flex.State()
	for _, emp := range st.Employees {
		if emp.ID == annaID && emp.City != nil {
			city = *emp.City
		}
	}
	for _, p := range st.EmploymentPeriods {
		if p.EmployeeID == annaID {
			to := ""
			if p.ToDate != nil {
				to = p.ToDate.String()
			}
			periods = append(periods, p.FromDate.String()+".."+to)
		}
	}
	return city, periods
}

func TestPublishEmitsTheEventOnceAndWritesNothingToFlexHRM(t *testing.T) {
	e := testenv.New(t, testenv.Options{Logger: testLogger(t)})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	e.Flex.ClearRequests()
	if err := e.Oneflow.Publish(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	pub := e.Published(id)
	if len(pub) != 1 {
		t.Fatalf("published events = %d, want 1", len(pub))
	}
	if pub[0].GetEmployeeNumber() != "1001" || pub[0].GetFlexEmployeeId() != annaID || pub[0].GetGeneration() != 0 {
		t.Errorf("event = %+v", pub[0])
	}
	for _, r := range e.Flex.Requests() {
		if r.Method != "GET" {
			t.Errorf("publish wrote to Flex HRM: %s %s", r.Method, r.Path)
		}
	}
	if e.Sync(id).GetSync().GetOneflowState() != "pending" {
		t.Errorf("sync = %+v", e.Sync(id).GetSync())
	}
}

func TestSignWritesOnlyChangedFieldsAndUpsertsThePeriod(t *testing.T) {
	tests := []struct {
		name        string
		fields      map[string]string
		wantPUT     int
		wantCity    string
		wantPeriods int
		wantOutcome eventsv1.Outcome
	}{
		{
			name:        "an_unchanged_contract_writes_no_employee_and_finds_the_period_as_it_is",
			wantPeriods: 2, wantOutcome: eventsv1.Outcome_OUTCOME_SKIPPED, wantCity: "",
		},
		{
			name:    "a_changed_city_and_position_update_the_employee_and_the_period_with_the_same_start",
			fields:  map[string]string{oneflow.CustomIDCity: "Göteborg", oneflow.CustomIDPosition: "Utvecklare"},
			wantPUT: 1, wantCity: "Göteborg", wantPeriods: 2, wantOutcome: eventsv1.Outcome_OUTCOME_DONE,
		},
		{
			name:        "a_new_start_and_end_before_the_existing_periods_create_a_period",
			fields:      map[string]string{oneflow.CustomIDEmploymentStart: "2018-01-01", oneflow.CustomIDEmploymentEnd: "2018-12-31"},
			wantPeriods: 3, wantOutcome: eventsv1.Outcome_OUTCOME_DONE,
		},
		{
			name:        "a_start_inside_an_open_period_is_an_overlap_warning_and_the_flow_goes_on",
			fields:      map[string]string{oneflow.CustomIDEmploymentStart: "2023-01-01"},
			wantPeriods: 2, wantOutcome: eventsv1.Outcome_OUTCOME_WARNING,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testenv.New(t, testenv.Options{Logger: testLogger(t)})
			originalCity, _ := anna(t, e)
			id := create(t, e, templateEmail, "1001")
			e.Idle()
			if err := e.Oneflow.Publish(id); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.fields {
				if err := e.Oneflow.SetDataField(id, k, v); err != nil {
					t.Fatal(err)
				}
			}
			e.Idle()
			t.Log("published")
			e.Flex.ClearRequests()
			if err := e.Oneflow.SignAll(id); err != nil {
				t.Fatal(err)
			}
			e.Idle()
			t.Log("signed")
			if n := flexCount(e, "PUT", "P3"); n != tt.wantPUT {
				t.Errorf("employee PUTs = %d, want %d", n, tt.wantPUT)
			}
			city, periods := anna(t, e)
			want := tt.wantCity
			if want == "" {
				want = originalCity
			}
			if city != want {
				t.Errorf("city = %q, want %q", city, want)
			}
			if len(periods) != tt.wantPeriods {
				t.Errorf("periods = %v, want %d", periods, tt.wantPeriods)
			}
			entries := e.Sync(id).GetEntries()
			if hasStep(entries, "write_employment_period", tt.wantOutcome) == nil {
				t.Errorf("no write_employment_period %v in %v", tt.wantOutcome, entries)
			}
			if len(e.Signed(id)) != 1 {
				t.Errorf("signed events = %d, want 1", len(e.Signed(id)))
			}
			if s := e.Sync(id).GetSync(); s.GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC {
				t.Errorf("sync = %+v", s)
			}
		})
	}
}

func TestEveryWebhookResentFiveTimesHasEachSideEffectOnce(t *testing.T) {
	e := testenv.New(t, testenv.Options{DuplicateDeliveries: 5})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	if err := e.Oneflow.Publish(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if err := e.Oneflow.SetDataField(id, oneflow.CustomIDCity, "Malmö"); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if err := e.Oneflow.SignAll(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	checks := map[string]int{
		"PUT /v1/contracts/{id}/data_fields":                                   1,
		"POST /v1/contracts/{id}/parties":                                      1,
		"POST /v1/contracts/{id}/parties/{party}/participants":                 1,
		"PUT /v1/contracts/{id}":                                               1,
		"DELETE /v1/contracts/{id}/parties/{party}/participants/{participant}": 0,
	}
	for route, want := range checks {
		got := 0
		for _, r := range e.Oneflow.RequestLog() {
			if r.Route == route && r.Status < 300 {
				got++
			}
		}
		if got != want {
			t.Errorf("%s: %d calls, want %d", route, got, want)
		}
	}
	if n := flexCount(e, "PUT", "P3"); n != 1 {
		t.Errorf("employee PUTs = %d, want 1", n)
	}
	if len(e.Published(id)) != 1 || len(e.Signed(id)) != 1 {
		t.Errorf("events: published %d, signed %d", len(e.Published(id)), len(e.Signed(id)))
	}
	c := contract(t, e, id)
	if countEmail(c, annaEmail) != 1 || countEmail(c, managerEmail) != 1 {
		t.Errorf("participants = %+v", participants(c))
	}
}

func TestBadSignatureIsUnauthenticatedAndNothingIsStored(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	before := e.WebhookMessages()
	req := &contractsyncv1.ReceiveOneflowWebhookRequest{
		Contract: &contractsyncv1.OneflowContractRef{Id: 4711}, CallbackId: "cb-1",
		Events: []*contractsyncv1.OneflowEvent{{Id: 1, Type: "contract:sign"}},
	}
	for _, sig := range []string{"", strings.Repeat("0", 40), oneflow.Sign("cb-1", "wrong key")} {
		req.Signature = sig
		_, err := e.Client.ReceiveOneflowWebhook(context.Background(), req)
		if status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "invalid webhook signature" {
			t.Errorf("signature %q: %v", sig, err)
		}
	}
	if after := e.WebhookMessages(); after != before {
		t.Errorf("stored %d messages for bad signatures", after-before)
	}
	bad := []*contractsyncv1.ReceiveOneflowWebhookRequest{
		{Contract: &contractsyncv1.OneflowContractRef{Id: 4711}, Events: req.Events},
		{CallbackId: "cb", Events: req.Events},
		{Contract: &contractsyncv1.OneflowContractRef{Id: 4711}, CallbackId: "cb"},
		{Contract: &contractsyncv1.OneflowContractRef{Id: 4711}, CallbackId: "cb", Events: make([]*contractsyncv1.OneflowEvent, 1001)},
	}
	for _, b := range bad {
		b.Signature = oneflow.Sign(b.GetCallbackId(), e.Oneflow.SignKey())
		if _, err := e.Client.ReceiveOneflowWebhook(context.Background(), b); status.Code(err) != codes.InvalidArgument {
			t.Errorf("malformed webhook: %v", err)
		}
	}
	req.Signature = oneflow.Sign("cb-1", e.Oneflow.SignKey())
	first, err := e.Client.ReceiveOneflowWebhook(context.Background(), req)
	if err != nil || first.GetDuplicate() {
		t.Fatalf("good webhook: %v %v", first, err)
	}
	again, err := e.Client.ReceiveOneflowWebhook(context.Background(), req)
	if err != nil || !again.GetDuplicate() {
		t.Errorf("resend: %v %v", again, err)
	}
}

func TestOperatorMethodsNeedAnOperatorToken(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	_, err := e.Client.ListFailures(context.Background(), &contractsyncv1.ListFailuresRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	if _, err := e.Client.ListFailures(testenv.Operator(context.Background()), &contractsyncv1.ListFailuresRequest{}); err != nil {
		t.Errorf("operator: %v", err)
	}
	employee := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+testenv.DirectoryToken)
	if _, err := e.Client.ReplayContract(employee, &contractsyncv1.ReplayContractRequest{ContractId: 1}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("employee token: %v", err)
	}
	wrong := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer not-a-token-we-know-of")
	if _, err := e.Client.GetContractSync(wrong, &contractsyncv1.GetContractSyncRequest{ContractId: 1}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("unknown token: %v", err)
	}
}

func TestACrashBetweenASideEffectAndItsStateWriteDoesNotRepeatIt(t *testing.T) {
	steps := []string{"add_participant", "add_manager", "set_name", "fill_data_fields", "request_pending_archive", "write_employee", "request_signed_archive"}
	crashed := map[string]*atomic.Bool{}
	for _, s := range steps {
		crashed[s] = &atomic.Bool{}
	}
	e := testenv.New(t, testenv.Options{Configure: func(c *service.Config) {
		c.AckWait = 300 * time.Millisecond
		c.Hooks.AfterSideEffect = func(_ context.Context, _ int64, step string) error {
			if b, ok := crashed[step]; ok && b.CompareAndSwap(false, true) {
				return app.ErrSimulatedCrash
			}
			return nil
		}
	}})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	if err := e.Oneflow.Publish(id); err != nil {
		t.Fatal(err)
	}
	if err := e.Oneflow.SetDataField(id, oneflow.CustomIDCity, "Luleå"); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if err := e.Oneflow.SignAll(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	for s, b := range crashed {
		if !b.Load() {
			t.Errorf("step %s never crashed; the test proves nothing for it", s)
		}
	}
	c := contract(t, e, id)
	if countEmail(c, annaEmail) != 1 || countEmail(c, managerEmail) != 1 {
		t.Errorf("participants after crashes = %+v", participants(c))
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}/data_fields", 200); n != 1 {
		t.Errorf("field writes = %d, want 1", n)
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}", 200); n != 1 {
		t.Errorf("renames = %d, want 1", n)
	}
	if n := flexCount(e, "PUT", "P3"); n != 1 {
		t.Errorf("employee PUTs = %d, want 1", n)
	}
	if len(e.Published(id)) != 1 || len(e.Signed(id)) != 1 {
		t.Errorf("events: published %d, signed %d", len(e.Published(id)), len(e.Signed(id)))
	}
	if s := e.Sync(id).GetSync(); s.GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC {
		t.Errorf("sync = %+v", s)
	}
}

func TestSignatureResetStartsANewGenerationWhosePendingVersionIsArchived(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	if err := e.Oneflow.Publish(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	c := contract(t, e, id)
	var signer int64
	for _, p := range c.Parties {
		for _, pp := range p.Participants {
			if pp.Signatory && signer == 0 {
				signer = pp.ID
			}
		}
	}
	if err := e.Oneflow.Sign(id, signer); err != nil {
		t.Fatal(err)
	}
	if err := e.Oneflow.ResetSignatures(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	pub := e.Published(id)
	if len(pub) != 2 || pub[0].GetGeneration() != 0 || pub[1].GetGeneration() != 1 {
		t.Fatalf("published events = %v, want generations 0 and 1", pub)
	}
	if g := e.Sync(id).GetSync().GetGeneration(); g != 1 {
		t.Errorf("generation = %d", g)
	}
	if err := e.Oneflow.SignAll(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if s := e.Signed(id); len(s) != 1 || s[0].GetGeneration() != 1 {
		t.Errorf("signed events = %v", s)
	}
}

func TestDeclineAndDeleteAreRecordedAndWriteNothing(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	declined := create(t, e, templateEmail, "1001")
	deleted := create(t, e, templateEmail, "1002")
	e.Idle()
	if err := e.Oneflow.Publish(declined); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	c := contract(t, e, declined)
	var signer int64
	for _, p := range c.Parties {
		for _, pp := range p.Participants {
			if pp.Signatory && !p.MyParty {
				signer = pp.ID
			}
		}
	}
	e.Flex.ClearRequests()
	if err := e.Oneflow.Decline(declined, signer); err != nil {
		t.Fatal(err)
	}
	if err := e.Oneflow.DeleteContract(deleted); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if n := len(e.Flex.Requests()); n != 0 {
		t.Errorf("Flex HRM called %d times", n)
	}
	if hasStep(e.Sync(declined).GetEntries(), "declined", eventsv1.Outcome_OUTCOME_DONE) == nil ||
		hasStep(e.Sync(deleted).GetEntries(), "deleted", eventsv1.Outcome_OUTCOME_DONE) == nil {
		t.Error("decline or delete not recorded")
	}
	if len(failures(t, e)) != 0 {
		t.Errorf("failures: %v", failures(t, e))
	}
}

func TestUnknownEventTypesArePassedAndIgnoredAndPoisonIsTerminated(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	req := &contractsyncv1.ReceiveOneflowWebhookRequest{
		Contract: &contractsyncv1.OneflowContractRef{Id: 999}, CallbackId: "cb-unknown",
		Events: []*contractsyncv1.OneflowEvent{{Id: 5, Type: "participant:create"}, {Id: 6, Type: "contract:lifecycle_state:start"}},
	}
	req.Signature = oneflow.Sign(req.CallbackId, e.Oneflow.SignKey())
	if _, err := e.Client.ReceiveOneflowWebhook(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, err := e.JS.Publish(context.Background(), "flexflow.webhooks.oneflow.02.998", []byte("\xff\xff not protobuf")); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if n := len(e.Oneflow.RequestLog()); n != 0 {
		t.Errorf("Oneflow called %d times for ignored events", n)
	}
	if hasStep(e.Sync(998).GetEntries(), "decode_notification", eventsv1.Outcome_OUTCOME_FAILED) == nil {
		t.Errorf("poison not recorded: %v", e.Sync(998).GetEntries())
	}
}

func TestAResendAfterTheStreamsDuplicateWindowIsRecognisedByTheCallbackMemory(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	var create ofsandbox.Delivery
	for _, d := range e.Oneflow.Deliveries() {
		if d.ContractID == id && d.EventType == oneflow.EventContractCreate {
			create = d
		}
	}
	n, err := oneflow.DecodeNotification(create.Body)
	if err != nil {
		t.Fatal(err)
	}
	req := testenv.ToRequest(n)
	req.Signature = ""
	data, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	e.Oneflow.ClearRequestLog()
	// Hours later the stream no longer knows the message id: store it again
	// under another id, as a resend after the window would be.
	if _, err := e.JS.Publish(context.Background(), domain.WebhookSubject(id, testenv.Partitions), data,
		jetstream.WithMsgID(n.CallbackID+"-hours-later")); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if got := len(e.Oneflow.RequestLog()); got != 0 {
		t.Errorf("the late resend caused %d Oneflow calls", got)
	}
}
