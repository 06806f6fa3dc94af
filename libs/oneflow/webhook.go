package oneflow

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // Oneflow's webhook signature is defined as SHA-1.
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Webhook event types flexflow reacts to; Oneflow sends others, which must be
// acknowledged and ignored.
const (
	EventContractCreate         = "contract:create"
	EventDataFieldUpdate        = "data_field:update"
	EventContractPublish        = "contract:publish"
	EventContractSign           = "contract:sign"
	EventContractSignatureReset = "contract:signature_reset"
	EventContractDecline        = "contract:decline"
	EventContractDelete         = "contract:delete"
)

// Notification is a webhook body from Oneflow. It carries ids only: the
// contract must be read from the API before acting.
type Notification struct {
	Contract   NotificationContract `json:"contract"`
	CallbackID string               `json:"callback_id"`
	Signature  string               `json:"signature"`
	Events     []Event              `json:"events"`
}

// NotificationContract identifies the contract a notification is about.
type NotificationContract struct {
	ID int64 `json:"id"`
}

// Event is one event of a notification.
type Event struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"`
	CreatedTime string `json:"created_time"`
}

// ErrMalformedNotification is returned (wrapped, with the reason) when a
// webhook body is not a notification; answer it with 400.
var ErrMalformedNotification = errors.New("oneflow: malformed webhook notification")

// DecodeNotification decodes a webhook body. Attributes it does not know are
// ignored (Oneflow adds them over time); known ones must have their documented
// JSON types, the contract id must be positive and the callback id present.
// Errors say what is wrong without quoting the body.
func DecodeNotification(body []byte) (Notification, error) {
	bad := func(reason string) (Notification, error) {
		return Notification{}, fmt.Errorf("%w: %s", ErrMalformedNotification, reason)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return bad("empty body")
	}
	if !utf8.Valid(body) {
		return bad("body is not valid UTF-8")
	}
	var raw struct {
		Contract   *NotificationContract `json:"contract"`
		CallbackID *string               `json:"callback_id"`
		Signature  *string               `json:"signature"`
		Events     []Event               `json:"events"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return bad(describeJSONError(err))
	}
	if raw.Contract == nil || raw.Contract.ID <= 0 {
		return bad("contract.id must be a positive integer")
	}
	if raw.CallbackID == nil || *raw.CallbackID == "" {
		return bad("callback_id is missing")
	}
	if !validCallbackID(*raw.CallbackID) {
		return bad(fmt.Sprintf("callback_id must be 1 to %d printable ASCII characters without spaces", maxCallbackIDLength))
	}
	n := Notification{Contract: *raw.Contract, CallbackID: *raw.CallbackID, Events: raw.Events}
	if raw.Signature != nil {
		n.Signature = *raw.Signature
	}
	if n.Events == nil {
		n.Events = []Event{}
	}
	return n, nil
}

func validCallbackID(id string) bool {
	if len(id) == 0 || len(id) > maxCallbackIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// Sign returns Oneflow's webhook signature for a callback id: the lowercase
// hex SHA-1 of callback_id followed by the sign key. It covers only the
// callback id, not the body.
func Sign(callbackID, signKey string) string {
	sum := sha1.Sum([]byte(callbackID + signKey)) //nolint:gosec // defined by Oneflow.
	return hex.EncodeToString(sum[:])
}

// VerifySignature reports whether signature is Oneflow's signature of
// callbackID under signKey, comparing in constant time. Only lowercase hex is
// accepted, as Oneflow sends; an empty callback id, signature or key never
// verifies.
func VerifySignature(callbackID, signature, signKey string) bool {
	if callbackID == "" || signature == "" || signKey == "" {
		return false
	}
	want := Sign(callbackID, signKey)
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
