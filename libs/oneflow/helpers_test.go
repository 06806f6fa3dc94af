package oneflow_test

import (
	"testing"

	"github.com/flexflow/flexflow/libs/oneflow"
)

func field(customID, value string) oneflow.DataField {
	return oneflow.DataField{Value: value, PrivateOwnerside: oneflow.DataFieldPrivateOwnerside{CustomID: customID}}
}

func TestDataFieldValue(t *testing.T) {
	c := oneflow.Contract{DataFields: []oneflow.DataField{
		field(oneflow.CustomIDEmployeeNumber, "1001"), field(oneflow.CustomIDCity, ""), field("", "no custom id"),
	}}
	tests := []struct {
		name, customID, want string
		found                bool
	}{
		{"a_field_is_read_by_custom_id", oneflow.CustomIDEmployeeNumber, "1001", true},
		{"an_empty_field_is_found_with_an_empty_value", oneflow.CustomIDCity, "", true},
		{"a_field_the_template_lacks_is_not_found", oneflow.CustomIDPosition, "", false},
		{"an_empty_custom_id_never_matches", "", "", false},
		{"custom_ids_are_matched_exactly", "FLEXHRM_EMPLOYEE_NUMBER", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := oneflow.DataFieldValue(c, tt.customID)
			if got != tt.want || found != tt.found {
				t.Fatalf("DataFieldValue = %q, %v; want %q, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func options(preferred string, names ...string) []oneflow.Option {
	var out []oneflow.Option
	for _, n := range names {
		out = append(out, oneflow.Option{Name: n, Preferred: n == preferred})
	}
	return out
}

func TestPreferredDeliveryChannelAndTwoStepMethod(t *testing.T) {
	all := []string{"email", "sms", "email_and_sms", "same_device", "none"}
	tests := []struct {
		name                 string
		channels, twoStep    []oneflow.Option
		wantChannel, wantTwo string
	}{
		{"the_preferred_channel_and_method_are_returned", options("sms", all...), options("email", "email", "sms", "none"), "sms", "email"},
		{"same_device_is_returned_as_is", options("same_device", all...), options("none", "email", "sms", "none"), "same_device", "none"},
		{"nothing_preferred_gives_empty", options("", all...), options("", "email"), "", ""},
		{"no_options_give_empty", nil, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := oneflow.Contract{AvailableOptions: oneflow.ContractAvailableOptions{DeliveryChannels: tt.channels, TwoStepAuthenticationMethods: tt.twoStep}}
			if got := oneflow.PreferredDeliveryChannel(c); got != tt.wantChannel {
				t.Errorf("PreferredDeliveryChannel = %q, want %q", got, tt.wantChannel)
			}
			if got := oneflow.PreferredTwoStepMethod(c); got != tt.wantTwo {
				t.Errorf("PreferredTwoStepMethod = %q, want %q", got, tt.wantTwo)
			}
		})
	}
}

func TestOwnerSideParty(t *testing.T) {
	counterparty := oneflow.Party{ID: 1, Name: "Anna", Type: oneflow.PartyTypeIndividual}
	owner := oneflow.Party{ID: 2, Name: "Acme AB", Type: oneflow.PartyTypeCompany, MyParty: true}
	tests := []struct {
		name    string
		parties []oneflow.Party
		wantID  int64
		found   bool
	}{
		{"the_party_marked_my_party_is_the_owner_side", []oneflow.Party{counterparty, owner}, 2, true},
		{"a_contract_without_my_party_has_no_owner_side", []oneflow.Party{counterparty}, 0, false},
		{"a_contract_without_parties_has_no_owner_side", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := oneflow.OwnerSideParty(oneflow.Contract{Parties: tt.parties})
			if got.ID != tt.wantID || found != tt.found {
				t.Fatalf("OwnerSideParty = %d, %v; want %d, %v", got.ID, found, tt.wantID, tt.found)
			}
		})
	}
}

func TestHasParticipantWithEmail(t *testing.T) {
	c := oneflow.Contract{Parties: []oneflow.Party{
		{MyParty: true, Participants: []oneflow.Participant{{Email: "Olle.Organizer@acme.example"}}},
		{Participants: []oneflow.Participant{{Email: " anna@example.se "}, {Email: ""}}},
	}}
	tests := []struct {
		name, email string
		want        bool
	}{
		{"an_owner_side_participant_matches_ignoring_case", "olle.organizer@ACME.example", true},
		{"a_counterparty_participant_matches_ignoring_spaces", "anna@example.se", true},
		{"another_email_does_not_match", "maria.manager@example.se", false},
		{"an_empty_email_never_matches_a_participant_without_one", "", false},
		{"blank_never_matches", "   ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneflow.HasParticipantWithEmail(c, tt.email); got != tt.want {
				t.Fatalf("HasParticipantWithEmail(%q) = %v, want %v", tt.email, got, tt.want)
			}
		})
	}
}
