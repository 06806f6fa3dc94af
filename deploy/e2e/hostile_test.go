package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
)

// hostileMarker is planted in every hostile body: it must never show in a
// log line or an answer.
const hostileMarker = "HOSTILE-e2e-7f3a"

// TestHostileRequestsAtTheGatewayGetTheRightStatusAndStoreAndLogNothing sends
// the real stack what an attacker or a broken sender would, and checks for
// each the HTTP status, the FLEXFLOW_WEBHOOKS message count (nothing stored
// that should not be), what flexflow did with what was stored, and finally
// that no log line carries a signature or a hostile body.
func TestHostileRequestsAtTheGatewayGetTheRightStatusAndStoreAndLogNothing(t *testing.T) {
	t.Parallel()
	ctx := contextWithTimeout(t, 5*time.Minute)
	s := startSystem(t, systemOptions{ServiceEnv: shortRetries()})
	hook := s.gatewayURL + "/v1/webhooks/oneflow"

	// A real contract first: its contract:create is the callback an
	// attacker would capture and replay.
	var created struct {
		ID int64 `json:"id"`
	}
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts", map[string]any{"template_id": 11, "employee_number": "1001"}, &created))
	w := &workload{sys: s, wait: time.Minute, polls: make(chan struct{}, 2)}
	real := &contractLife{id: created.ID}
	if err := w.waitFetched(ctx, real, "1001"); err != nil {
		t.Fatal(err)
	}
	var other struct {
		ID int64 `json:"id"`
	}
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts", map[string]any{"template_id": 11}, &other))
	s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/webhooks/wait", nil, nil))
	if err := s.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	var deliveries []struct {
		CallbackID string          `json:"callback_id"`
		ContractID int64           `json:"contract_id"`
		EventType  string          `json:"event_type"`
		Body       json.RawMessage `json:"body"`
	}
	s.must(s.oneflow(ctx, http.MethodGet, "/_sandbox/webhooks", nil, &deliveries))
	var captured []byte
	for _, d := range deliveries {
		if d.ContractID == created.ID && d.EventType == "contract:create" {
			captured = d.Body
		}
	}
	if captured == nil {
		t.Fatal("the sandbox recorded no contract:create for the real contract")
	}
	var capturedNote oneflow.Notification
	if err := json.Unmarshal(captured, &capturedNote); err != nil {
		t.Fatal(err)
	}

	// An unknown contract keeps stored-and-ignored cases away from real
	// contracts: anything flexflow did about it would show in the logs.
	const ignoredContract = 987_654_321
	seq := 0
	cb := func() string { seq++; return fmt.Sprintf("hostile-%d-%d", time.Now().UnixNano(), seq) }
	var signatures []string
	signed := func(contract any, events any) map[string]any {
		id := cb()
		sig := oneflow.Sign(id, s.signKey)
		signatures = append(signatures, sig)
		return map[string]any{"contract": map[string]any{"id": contract}, "callback_id": id,
			"signature": sig, "events": events, "marker": hostileMarker}
	}
	unknown := []map[string]any{{"id": 1, "type": "contract:content_update", "created_time": "2026-01-01T00:00:00Z"}}
	asJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withSig := func(n map[string]any, sig string) map[string]any {
		n["signature"] = sig
		signatures = append(signatures, sig)
		return n
	}
	manyEvents := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"id": i + 1, "type": "contract:content_update"}
		}
		return out
	}
	replayedElsewhere := map[string]any{"contract": map[string]any{"id": other.ID}, "callback_id": capturedNote.CallbackID,
		"signature": capturedNote.Signature, "events": []map[string]any{{"id": 1, "type": "contract:sign"}}, "marker": hostileMarker}
	nested := func(depth int) []byte {
		n := signed(ignoredContract, unknown)
		b := asJSON(n)
		deep := strings.Repeat(`{"a":`, depth) + `"` + hostileMarker + `"` + strings.Repeat("}", depth)
		return append(b[:len(b)-1], []byte(`,"deep":`+deep+"}")...)
	}

	tests := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		// chunked hides the length, as a sender streaming its body does.
		chunked    bool
		wantStatus int
		wantStored bool
		// ignoredFor names a contract the stored notification must leave
		// untouched: no Oneflow call about it, no sync state.
		ignoredFor int64
	}{
		{name: "a_missing_signature_is_401", body: asJSON(withSig(signed(ignoredContract, unknown), "")), wantStatus: 401},
		{name: "a_signature_made_with_another_key_is_401", body: asJSON(withSig(signed(ignoredContract, unknown), oneflow.Sign("x", "not-the-key"))), wantStatus: 401},
		{name: "a_valid_signature_of_another_callback_is_401", body: asJSON(withSig(signed(ignoredContract, unknown), capturedNote.Signature)), wantStatus: 401},
		{name: "an_uppercase_signature_is_401", body: func() []byte {
			n := signed(ignoredContract, unknown)
			return asJSON(withSig(n, strings.ToUpper(n["signature"].(string))))
		}(), wantStatus: 401},
		{name: "a_replayed_callback_is_answered_200_and_stored_once", body: captured, wantStatus: 200},
		{name: "a_replayed_callback_id_carrying_another_contract_and_event_is_stored_nowhere", body: asJSON(replayedElsewhere), wantStatus: 200, ignoredFor: other.ID},
		{name: "a_body_over_one_mebibyte_is_413", body: func() []byte {
			n := signed(ignoredContract, unknown)
			n["padding"] = strings.Repeat(hostileMarker, (1<<20)/len(hostileMarker)+1)
			return asJSON(n)
		}(), wantStatus: 413},
		{name: "a_body_over_one_mebibyte_without_a_length_is_413", chunked: true, body: func() []byte {
			n := signed(ignoredContract, unknown)
			n["padding"] = strings.Repeat(hostileMarker, (2<<20)/len(hostileMarker))
			return asJSON(n)
		}(), wantStatus: 413},
		{name: "json_nested_ten_thousand_deep_is_400", body: nested(10_000), wantStatus: 400},
		{name: "json_nested_a_hundred_thousand_deep_is_400", body: nested(100_000), wantStatus: 400},
		{name: "arrays_nested_inside_events_are_400", body: func() []byte {
			n := signed(ignoredContract, nil)
			b := asJSON(n)
			return bytes.Replace(b, []byte(`"events":null`), []byte(`"events":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), 1)
		}(), wantStatus: 400},
		{name: "text_plain_is_415", contentType: "text/plain", body: asJSON(signed(ignoredContract, unknown)), wantStatus: 415},
		{name: "a_form_post_is_415", contentType: "application/x-www-form-urlencoded", body: []byte("callback_id=x&signature=" + hostileMarker), wantStatus: 415},
		{name: "xml_is_415", contentType: "application/xml", body: []byte("<notification>" + hostileMarker + "</notification>"), wantStatus: 415},
		{name: "a_body_without_a_content_type_is_415", contentType: "-", body: asJSON(signed(ignoredContract, unknown)), wantStatus: 415},
		{name: "invalid_utf8_in_a_string_is_400", body: bytes.Replace(asJSON(signed(ignoredContract, unknown)), []byte("content_update"), []byte("content_\xff\xfeupdate"), 1), wantStatus: 400},
		{name: "invalid_utf8_in_a_key_is_400", body: bytes.Replace(asJSON(signed(ignoredContract, unknown)), []byte(`"marker"`), []byte("\"mar\xc3\x28ker\""), 1), wantStatus: 400},
		{name: "a_contract_id_that_is_a_word_is_400", body: asJSON(signed(hostileMarker, unknown)), wantStatus: 400},
		{name: "a_contract_id_that_is_a_fraction_is_400", body: asJSON(signed(1.5, unknown)), wantStatus: 400},
		{name: "a_contract_id_that_is_an_object_is_400", body: asJSON(signed(map[string]string{"id": hostileMarker}, unknown)), wantStatus: 400},
		{name: "a_contract_id_that_is_true_is_400", body: asJSON(signed(true, unknown)), wantStatus: 400},
		{name: "a_contract_id_beyond_int64_is_400", body: asJSON(signed(json.Number("99999999999999999999999"), unknown)), wantStatus: 400},
		{name: "a_negative_contract_id_is_400", body: asJSON(signed(-5, unknown)), wantStatus: 400},
		{name: "a_zero_contract_id_is_400", body: asJSON(signed(0, unknown)), wantStatus: 400},
		{name: "a_contract_id_as_a_numeric_string_is_accepted_as_proto3_json", body: asJSON(signed(fmt.Sprint(ignoredContract), unknown)), wantStatus: 200, wantStored: true, ignoredFor: ignoredContract},
		{name: "an_empty_events_array_is_400", body: asJSON(signed(ignoredContract, []any{})), wantStatus: 400},
		{name: "events_null_is_400", body: asJSON(signed(ignoredContract, nil)), wantStatus: 400},
		{name: "events_of_another_type_are_400", body: asJSON(signed(ignoredContract, hostileMarker)), wantStatus: 400},
		{name: "ten_thousand_events_are_400", body: asJSON(signed(ignoredContract, manyEvents(10_000))), wantStatus: 400},
		{name: "unknown_event_types_are_200_stored_and_ignored", body: asJSON(signed(ignoredContract, unknown)), wantStatus: 200, wantStored: true, ignoredFor: ignoredContract},
		{name: "a_thousand_unknown_events_are_200_stored_and_ignored", body: asJSON(signed(ignoredContract, manyEvents(1000))), wantStatus: 200, wantStored: true, ignoredFor: ignoredContract},
		{name: "an_empty_callback_id_is_400", body: func() []byte {
			n := signed(ignoredContract, unknown)
			n["callback_id"] = ""
			return asJSON(n)
		}(), wantStatus: 400},
		{name: "a_callback_id_of_a_thousand_characters_is_400", body: func() []byte {
			n := signed(ignoredContract, unknown)
			id := strings.Repeat("c", 1000)
			n["callback_id"], n["signature"] = id, oneflow.Sign(id, s.signKey)
			return asJSON(n)
		}(), wantStatus: 400},
		{name: "a_duplicated_key_is_400", body: func() []byte {
			b := asJSON(signed(ignoredContract, unknown))
			return append([]byte(`{"callback_id":"`+hostileMarker+`",`), b[1:]...)
		}(), wantStatus: 400},
		{name: "trailing_garbage_is_400", body: append(asJSON(signed(ignoredContract, unknown)), []byte(" "+hostileMarker)...), wantStatus: 400},
		{name: "an_empty_body_is_400", body: []byte{}, wantStatus: 400},
		{name: "json_null_is_400", body: []byte("null"), wantStatus: 400},
		{name: "a_json_array_is_400", body: []byte(`[` + string(asJSON(signed(ignoredContract, unknown))) + `]`), wantStatus: 400},
		{name: "get_on_the_webhook_route_is_405", method: http.MethodGet, wantStatus: 405},
		{name: "put_on_the_webhook_route_is_405", method: http.MethodPut, body: asJSON(signed(ignoredContract, unknown)), wantStatus: 405},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := s.streamMessages(ctx, "FLEXFLOW_WEBHOOKS")
			if err != nil {
				t.Fatal(err)
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body)
				if tt.chunked {
					body = io.MultiReader(bytes.NewReader(tt.body))
				}
			}
			req, err := http.NewRequestWithContext(ctx, method, hook, body)
			if err != nil {
				t.Fatal(err)
			}
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, truncate(string(answer), 200))
			}
			if strings.Contains(string(answer), hostileMarker) {
				t.Errorf("the answer echoes what was sent: %s", truncate(string(answer), 200))
			}
			if resp.StatusCode != http.StatusOK {
				var shape struct {
					Error struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if err := json.Unmarshal(answer, &shape); err != nil || shape.Error.Message == "" {
					t.Errorf("error answer is not in the edge's one JSON shape: %s", truncate(string(answer), 200))
				}
			}
			after, err := s.streamMessages(ctx, "FLEXFLOW_WEBHOOKS")
			if err != nil {
				t.Fatal(err)
			}
			want := before
			if tt.wantStored {
				want++
			}
			if after != want {
				t.Errorf("FLEXFLOW_WEBHOOKS holds %d messages, want %d (was %d)", after, want, before)
			}
			if tt.ignoredFor != 0 {
				if err := s.waitIdle(ctx); err != nil {
					t.Fatal(err)
				}
				checkUntouched(ctx, t, s, tt.ignoredFor)
			}
		})
	}

	t.Run("the_real_contract_was_fetched_once_despite_the_replays", func(t *testing.T) {
		if err := s.waitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range s.oneflowRequests(ctx) {
			if r.Method == http.MethodPut && r.Path == fmt.Sprintf("/v1/contracts/%d/data_fields", created.ID) && r.Status < 300 {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the real contract's fields were written %d times, want 1", n)
		}
		checkUntouched(ctx, t, s, other.ID)
	})
	t.Run("nothing_hostile_and_no_signature_is_logged", func(t *testing.T) {
		logs := s.logs.String()
		if !strings.Contains(logs, "invalid signature") {
			t.Error("no log line records the refused signatures; the scan would prove little")
		}
		for _, v := range append(signatures, hostileMarker, capturedNote.Signature, s.signKey) {
			if len(v) < 8 {
				continue
			}
			if n := strings.Count(logs, v); n > 0 {
				t.Errorf("the stack's logs hold %q… %d times", v[:8], n)
			}
		}
	})
}

// checkUntouched asserts flexflow did nothing about a contract: no Oneflow
// call about it, no flow run or failure in its sync state.
func checkUntouched(ctx context.Context, t *testing.T, s *system, contractID int64) {
	t.Helper()
	prefix := fmt.Sprintf("/v1/contracts/%d", contractID)
	for _, r := range s.oneflowRequests(ctx) {
		if r.Path == prefix || strings.HasPrefix(r.Path, prefix+"/") {
			if contractID == 987_654_321 || r.Method != http.MethodGet {
				t.Errorf("flexflow called Oneflow about contract %d: %s %s", contractID, r.Method, r.Path)
			}
		}
	}
	resp, err := s.sync.GetContractSync(s.authed(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: contractID})
	if err != nil {
		t.Fatalf("GetContractSync(%d): %v", contractID, err)
	}
	if st := resp.GetSync(); st.GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_FAILED || slices.Contains(st.GetCompletedFlows(), "sign") {
		t.Errorf("contract %d: sync state %v", contractID, st)
	}
	failures, err := s.failures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		if f.GetContractId() == contractID {
			t.Errorf("contract %d listed as failed: %s", contractID, f.GetReason())
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
