package domain

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func anna() Employee {
	return Employee{
		EmployeeNumber: "1001", FirstName: "Anna", Surname: "Lindström", NationalID: "19900312-1234",
		COAddress: "c/o Berg", StreetAddress: "Storgatan 1", PostalCode: "111 22", City: "Stockholm",
		Country: "Sverige", EmailWork: "anna@example.se", MobilePhonePrivate: "+46701234567",
		ImmediateManagerName: "Bo Berg", ImmediateManagerEmail: "bo@example.se", HasManager: true,
		Position: "Developer", EmploymentStart: "2026-01-01T00:00:00", EmploymentEnd: "",
	}
}

func allFieldsEmpty() map[string]string {
	m := map[string]string{}
	for _, f := range MappedFields() {
		m[f.CustomID] = ""
	}
	return m
}

func TestPlanFieldFill(t *testing.T) {
	long := strings.Repeat("å", MaxFieldValueLength+1)
	tests := []struct {
		name         string
		fields       map[string]string
		employee     func() Employee
		wantChanges  []FieldChange
		wantWarnings int
	}{
		{
			name:     "an_empty_contract_gets_every_field_with_a_value_and_dates_as_YYYY-MM-DD",
			fields:   func() map[string]string { m := allFieldsEmpty(); m[FieldEmployeeNumber] = "1001"; return m }(),
			employee: anna,
			wantChanges: []FieldChange{
				{FieldFirstName, "Anna"}, {FieldSurname, "Lindström"}, {FieldNationalID, "19900312-1234"},
				{FieldCOAddress, "c/o Berg"}, {FieldStreetAddress, "Storgatan 1"}, {FieldPostalCode, "111 22"},
				{FieldCity, "Stockholm"}, {FieldCountry, "Sverige"}, {FieldEmailWork, "anna@example.se"},
				{FieldMobilePhonePrivate, "+46701234567"}, {FieldImmediateManager, "Bo Berg"},
				{FieldPosition, "Developer"}, {FieldEmploymentStart, "2026-01-01"},
			},
		},
		{
			name:     "fields_missing_from_the_template_are_skipped",
			fields:   map[string]string{FieldEmployeeNumber: "1001", FieldCity: ""},
			employee: anna,
			wantChanges: []FieldChange{
				{FieldCity, "Stockholm"},
			},
		},
		{
			name:     "fields_already_equal_are_not_written",
			fields:   map[string]string{FieldEmployeeNumber: "1001", FieldCity: "Stockholm", FieldEmploymentStart: "2026-01-01"},
			employee: anna,
		},
		{
			name:         "a_value_over_1024_characters_is_a_warning_for_that_field_only",
			fields:       map[string]string{FieldEmployeeNumber: "1001", FieldCity: "", FieldCountry: ""},
			employee:     func() Employee { e := anna(); e.City = long; return e },
			wantChanges:  []FieldChange{{FieldCountry, "Sverige"}},
			wantWarnings: 1,
		},
		{
			name:        "a_value_removed_in_Flex_HRM_is_cleared_in_the_contract",
			fields:      map[string]string{FieldEmployeeNumber: "1001", FieldCOAddress: "c/o Old"},
			employee:    func() Employee { e := anna(); e.COAddress = ""; return e },
			wantChanges: []FieldChange{{FieldCOAddress, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, warnings := PlanFieldFill(tt.fields, tt.employee())
			if diff := cmp.Diff(tt.wantChanges, changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if len(warnings) != tt.wantWarnings {
				t.Errorf("warnings = %v, want %d", warnings, tt.wantWarnings)
			}
			for _, w := range warnings {
				if strings.Contains(w.Reason, "å") {
					t.Errorf("warning echoes the value: %q", w.Reason)
				}
			}
		})
	}
}

func TestPlanEmployeeWriteBack(t *testing.T) {
	tests := []struct {
		name     string
		fields   map[string]string
		wantMask []string
	}{
		{
			name:   "an_unchanged_contract_writes_nothing",
			fields: map[string]string{FieldEmployeeNumber: "1001", FieldFirstName: "Anna", FieldCity: "Stockholm", FieldImmediateManager: "Someone Else"},
		},
		{
			name:     "only_changed_writable_fields_are_in_the_mask",
			fields:   map[string]string{FieldEmployeeNumber: "9999", FieldFirstName: "Anna", FieldCity: "Göteborg", FieldMobilePhonePrivate: "+46700000000", FieldPosition: "Boss"},
			wantMask: []string{"city", "mobile_phone_private"},
		},
		{
			name:   "fields_missing_from_the_contract_are_left_alone",
			fields: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mask, values := PlanEmployeeWriteBack(tt.fields, anna())
			if diff := cmp.Diff(tt.wantMask, mask); diff != "" {
				t.Errorf("mask (-want +got):\n%s", diff)
			}
			if len(mask) > 0 && mask[0] == "city" && values.City != "Göteborg" {
				t.Errorf("values.City = %q", values.City)
			}
		})
	}
}

func TestPlanEmploymentPeriod(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string]string
		want   EmploymentPeriodPlan
		ok     bool
	}{
		{"start_end_and_position_make_a_period", map[string]string{FieldEmploymentStart: "2026-02-01", FieldEmploymentEnd: "2026-12-31", FieldPosition: " Developer "}, EmploymentPeriodPlan{"2026-02-01", "2026-12-31", "Developer"}, true},
		{"an_empty_end_is_open_ended", map[string]string{FieldEmploymentStart: "2026-02-01", FieldEmploymentEnd: ""}, EmploymentPeriodPlan{FromDate: "2026-02-01"}, true},
		{"no_start_means_no_period", map[string]string{FieldEmploymentEnd: "2026-12-31"}, EmploymentPeriodPlan{}, false},
		{"a_start_that_is_no_date_means_no_period", map[string]string{FieldEmploymentStart: "2026-02-30"}, EmploymentPeriodPlan{}, false},
		{"an_end_before_the_start_means_no_period", map[string]string{FieldEmploymentStart: "2026-02-01", FieldEmploymentEnd: "2026-01-01"}, EmploymentPeriodPlan{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, reason := PlanEmploymentPeriod(tt.fields)
			if ok != tt.ok {
				t.Fatalf("ok = %v (%s), want %v", ok, reason, tt.ok)
			}
			if ok && got != tt.want {
				t.Errorf("plan = %+v, want %+v", got, tt.want)
			}
			if !ok && reason == "" {
				t.Error("a refused period needs a reason")
			}
		})
	}
}

func TestDecideEmployeeParticipant(t *testing.T) {
	tests := []struct {
		name             string
		channel, twoStep string
		email, phone     bool
		wantAdd          bool
	}{
		{"email_channel_with_email_adds", ChannelEmail, TwoStepNone, true, false, true},
		{"email_channel_without_email_skips", ChannelEmail, TwoStepNone, false, true, false},
		{"sms_channel_with_phone_adds", ChannelSMS, "", false, true, true},
		{"sms_channel_without_phone_skips", ChannelSMS, "", true, false, false},
		{"email_and_sms_with_both_adds", ChannelEmailAndSMS, "", true, true, true},
		{"email_and_sms_with_only_email_skips", ChannelEmailAndSMS, "", true, false, false},
		{"email_and_sms_with_only_phone_skips", ChannelEmailAndSMS, "", false, true, false},
		{"same_device_never_adds", ChannelSameDevice, "", true, true, false},
		{"none_never_adds", ChannelNone, "", true, true, false},
		{"no_preferred_channel_skips", "", "", true, true, false},
		{"email_channel_with_sms_two_step_needs_phone", ChannelEmail, TwoStepSMS, true, false, false},
		{"email_channel_with_sms_two_step_and_phone_adds", ChannelEmail, TwoStepSMS, true, true, true},
		{"sms_channel_with_email_two_step_needs_email", ChannelSMS, TwoStepEmail, false, true, false},
		{"an_eid_two_step_method_needs_nothing_we_check", ChannelEmail, "swedish_bankid", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideEmployeeParticipant(tt.channel, tt.twoStep, tt.email, tt.phone)
			if d.Add != tt.wantAdd {
				t.Fatalf("Add = %v (%s), want %v", d.Add, d.Reason, tt.wantAdd)
			}
			if !d.Add && d.Reason == "" {
				t.Error("a skip needs a reason")
			}
		})
	}
}

func TestDecideManagerLookup(t *testing.T) {
	tests := []struct {
		name        string
		employee    func() Employee
		emails      []string
		wantLookup  bool
		wantOutcome string
	}{
		{"manager_with_email_is_looked_up", anna, []string{"anna@example.se"}, true, ""},
		{"no_manager_is_a_warning", func() Employee { e := anna(); e.HasManager = false; e.ImmediateManagerEmail = ""; return e }, nil, false, "warning"},
		{"manager_without_email_is_a_warning", func() Employee { e := anna(); e.ImmediateManagerEmail = ""; return e }, nil, false, "warning"},
		{"manager_already_a_participant_is_skipped_case_insensitively", anna, []string{"BO@Example.se "}, false, "skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideManagerLookup(tt.employee(), tt.emails)
			if d.Lookup != tt.wantLookup || d.Outcome != tt.wantOutcome {
				t.Fatalf("got %+v", d)
			}
			if strings.Contains(d.Reason, "@") {
				t.Errorf("reason leaks an email: %q", d.Reason)
			}
		})
	}
}

func TestDecideRename(t *testing.T) {
	const tpl = "Employment contract"
	const want = "Anna Lindström - Employment contract"
	tests := []struct {
		name, current, previous string
		rename, already         bool
	}{
		{"a_contract_without_name_is_named", "", "", true, false},
		{"a_contract_with_the_template_name_is_named", tpl, "", true, false},
		{"a_name_flexflow_set_before_is_replaced", "Bo Berg - Employment contract", "Bo Berg - Employment contract", true, false},
		{"a_name_an_admin_typed_is_kept", "Anna's special deal", "", false, false},
		{"a_name_an_admin_typed_over_ours_is_kept", "Anna's special deal", "Bo Berg - Employment contract", false, false},
		{"the_wanted_name_already_there_is_recorded_not_written", want, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideRename(tt.current, tpl, tt.previous, want)
			if d.Rename != tt.rename || d.AlreadySet != tt.already {
				t.Fatalf("got %+v", d)
			}
		})
	}
	if got := ContractName("Anna", "Lindström", "", tpl); got != want {
		t.Errorf("ContractName = %q", got)
	}
	if got := ContractName("", "", "", tpl); got != "" {
		t.Errorf("ContractName without a name = %q", got)
	}
}

func TestPartitionAndSubjects(t *testing.T) {
	tests := []struct {
		name       string
		id         int64
		partitions int
		want       string
	}{
		{"ids_map_modulo_the_partition_count", 4711, 16, "flexflow.webhooks.oneflow.07.4711"},
		{"partition_zero_has_two_digits", 32, 16, "flexflow.webhooks.oneflow.00.32"},
		{"the_last_partition", 15, 16, "flexflow.webhooks.oneflow.15.15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WebhookSubject(tt.id, tt.partitions); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := EventMsgID(4711, "pending", 2); got != "4711-pending-2" {
		t.Errorf("EventMsgID = %q", got)
	}
	if ConsumerName(3) != "contract-sync-p03" || PartitionFilter(3) != "flexflow.webhooks.oneflow.03.*" {
		t.Error("consumer naming")
	}
}

func TestRetryPolicy(t *testing.T) {
	p := RetryPolicy{Budget: 2 * time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 10 * time.Minute}
	rnd := rand.New(rand.NewPCG(1, 2))
	var total time.Duration
	prev := time.Duration(0)
	for i := 1; i <= 30; i++ {
		d := p.NextDelay(i, rnd)
		if d < prev && d < p.MaxDelay {
			t.Errorf("delay %d shrank: %v < %v", i, d, prev)
		}
		if d > p.MaxDelay*12/10 {
			t.Errorf("delay %d = %v over the cap", i, d)
		}
		prev = d
		total += d
	}
	if total < p.Budget {
		t.Errorf("30 attempts cover only %v", total)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if p.Exhausted(start, start.Add(119*time.Minute)) || !p.Exhausted(start, start.Add(2*time.Hour)) {
		t.Error("budget boundary")
	}
}

func TestStateGuards(t *testing.T) {
	var s State
	s.MarkDone(StepKey(FlowPublish, 0, ""))
	s.MarkDone(StepKey(FlowSign, 1, "employee"))
	if !s.IsDone("publish/0") || !s.IsDone("sign/1/employee") {
		t.Fatal("steps not recorded")
	}
	if got := s.CompletedFlows(); len(got) != 1 || got[0] != "publish" {
		t.Errorf("completed flows for generation 0 = %v", got)
	}
	for i := int64(1); i <= 100; i++ {
		s.RememberEvent(i)
	}
	if s.SeenEvent(1) || !s.SeenEvent(100) || s.SeenEvent(0) {
		t.Error("event memory")
	}
	p := Pending{}
	p.FoldEvents([]PendingEvent{{Type: EventContractCreate, CallbackID: "a"}})
	p.FoldEvents([]PendingEvent{{Type: EventContractCreate, CallbackID: "a"}, {Type: EventContractPublish, CallbackID: "b"}})
	if len(p.Events) != 2 || p.Events[1].Type != EventContractPublish {
		t.Errorf("fold = %+v", p.Events)
	}
}
