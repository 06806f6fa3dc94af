package oneflow_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flexflow/flexflow/libs/oneflow"
)

func TestSignIsLowercaseHexSHA1OfCallbackIDAndKey(t *testing.T) {
	// printf 'abc123sandbox-sign-key' | sha1sum
	const want = "a4f08e04ff020716b242f291132685b7b16063bd"
	if got := oneflow.Sign("abc123", "sandbox-sign-key"); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	const callbackID, key = "e2b9c0a4f00d", "key"
	good := oneflow.Sign(callbackID, key)
	tests := []struct {
		name                     string
		callbackID, sig, signKey string
		want                     bool
	}{
		{"the_right_signature_is_accepted", callbackID, good, key, true},
		{"a_signature_made_with_another_key_is_rejected", callbackID, oneflow.Sign(callbackID, "other"), key, false},
		{"the_right_signature_checked_with_a_wrong_key_is_rejected", callbackID, good, "wrong", false},
		{"uppercase_hex_is_rejected", callbackID, strings.ToUpper(good), key, false},
		{"a_missing_signature_is_rejected", callbackID, "", key, false},
		{"a_missing_callback_id_is_rejected", "", oneflow.Sign("", key), key, false},
		{"an_empty_sign_key_is_rejected", callbackID, oneflow.Sign(callbackID, ""), "", false},
		{"a_truncated_signature_is_rejected", callbackID, good[:39], key, false},
		{"a_signature_of_another_callback_id_is_rejected", callbackID, oneflow.Sign("other", key), key, false},
		{"a_signature_with_surrounding_spaces_is_rejected", callbackID, " " + good, key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneflow.VerifySignature(tt.callbackID, tt.sig, tt.signKey); got != tt.want {
				t.Fatalf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeNotification(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    oneflow.Notification
		wantErr string
	}{
		{
			name: "a_notification_with_extra_attributes_at_every_level_decodes",
			body: `{"contract":{"id":4711,"name":"ignored","_private":{"x":1}},"callback_id":"e2b9c0a4","signature":"ab",
				"events":[{"id":998877,"type":"contract:sign","created_time":"2026-05-02T10:15:30+00:00","extra":[1,2]}],
				"account":{"id":3},"new_attribute":null}`,
			want: oneflow.Notification{Contract: oneflow.NotificationContract{ID: 4711}, CallbackID: "e2b9c0a4", Signature: "ab",
				Events: []oneflow.Event{{ID: 998877, Type: "contract:sign", CreatedTime: "2026-05-02T10:15:30+00:00"}}},
		},
		{
			name: "unknown_event_types_decode_for_the_caller_to_ignore",
			body: `{"contract":{"id":1},"callback_id":"c","events":[{"id":1,"type":"participant:unknown_future_thing"}]}`,
			want: oneflow.Notification{Contract: oneflow.NotificationContract{ID: 1}, CallbackID: "c",
				Events: []oneflow.Event{{ID: 1, Type: "participant:unknown_future_thing"}}},
		},
		{
			name: "an_empty_events_array_decodes",
			body: `{"contract":{"id":1},"callback_id":"c","signature":"s","events":[]}`,
			want: oneflow.Notification{Contract: oneflow.NotificationContract{ID: 1}, CallbackID: "c", Signature: "s", Events: []oneflow.Event{}},
		},
		{name: "an_empty_body_is_refused", body: "  ", wantErr: "empty body"},
		{name: "malformed_json_is_refused_without_quoting_it", body: `{"contract":{"id":1},"callback_id":"secret-ish`, wantErr: "malformed JSON"},
		{name: "trailing_data_is_refused", body: `{"contract":{"id":1},"callback_id":"c"} {}`, wantErr: "malformed JSON"},
		{name: "a_contract_id_as_a_string_is_refused", body: `{"contract":{"id":"4711"},"callback_id":"c"}`, wantErr: "contract.id is a JSON string"},
		{name: "an_event_id_as_a_string_is_refused", body: `{"contract":{"id":1},"callback_id":"c","events":[{"id":"9","type":"x"}]}`, wantErr: "events.id is a JSON string"},
		{name: "events_as_an_object_is_refused", body: `{"contract":{"id":1},"callback_id":"c","events":{}}`, wantErr: "events is a JSON object"},
		{name: "a_fractional_contract_id_is_refused_without_quoting_it", body: `{"contract":{"id":19850101.5},"callback_id":"c"}`, wantErr: "contract.id is a JSON number"},
		{name: "a_missing_contract_is_refused", body: `{"callback_id":"c","events":[]}`, wantErr: "contract.id must be a positive integer"},
		{name: "a_negative_contract_id_is_refused", body: `{"contract":{"id":-1},"callback_id":"c"}`, wantErr: "contract.id must be a positive integer"},
		{name: "a_missing_callback_id_is_refused", body: `{"contract":{"id":1}}`, wantErr: "callback_id is missing"},
		{name: "a_callback_id_with_a_line_break_is_refused", body: `{"contract":{"id":1},"callback_id":"a\r\nb"}`, wantErr: "printable ASCII"},
		{name: "a_callback_id_of_300_characters_is_refused", body: `{"contract":{"id":1},"callback_id":"` + strings.Repeat("a", 300) + `"}`, wantErr: "printable ASCII"},
		{name: "invalid_utf8_is_refused", body: "{\"contract\":{\"id\":1},\"callback_id\":\"c\xff\"}", wantErr: "not valid UTF-8"},
		{name: "a_json_array_is_refused", body: `[1,2]`, wantErr: "is a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oneflow.DecodeNotification([]byte(tt.body))
			if tt.wantErr != "" {
				if !errors.Is(err, oneflow.ErrMalformedNotification) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrMalformedNotification saying %q", err, tt.wantErr)
				}
				for _, secret := range []string{"secret-ish", "19850101", "4711"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("the error quotes the body: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeNotification: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("decoded notification (-want +got):\n%s", diff)
			}
		})
	}
}
