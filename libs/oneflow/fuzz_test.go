package oneflow

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// Fuzz targets for everything that decodes what arrives from outside: webhook
// bodies, signatures, and Oneflow's answers. Their seed corpora live in
// testdata/fuzz and run with every `go test`; `make fuzz` explores further.

func FuzzDecodeNotification(f *testing.F) {
	f.Add([]byte(`{"contract":{"id":4711},"callback_id":"e2b9c0a4","signature":"00","events":[{"id":1,"type":"contract:sign","created_time":"2026-05-02T10:15:30+00:00"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := DecodeNotification(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedNotification) {
				t.Fatalf("an error that is not ErrMalformedNotification: %v", err)
			}
			return
		}
		if n.Contract.ID <= 0 || !validCallbackID(n.CallbackID) || n.Events == nil {
			t.Fatalf("accepted an invalid notification: %+v", n)
		}
		again, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := DecodeNotification(again)
		if err != nil || n2.CallbackID != n.CallbackID || n2.Contract != n.Contract || len(n2.Events) != len(n.Events) {
			t.Fatalf("a decoded notification does not round-trip: %v", err)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("e2b9c0a4", "sign-key", "")
	f.Add("", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709")
	f.Fuzz(func(t *testing.T, callbackID, signKey, signature string) {
		good := Sign(callbackID, signKey)
		if len(good) != 40 || strings.ToLower(good) != good {
			t.Fatalf("Sign gave %q, want 40 lowercase hex", good)
		}
		wantGood := callbackID != "" && signKey != ""
		if VerifySignature(callbackID, good, signKey) != wantGood {
			t.Fatalf("VerifySignature of Sign's output = %v, want %v", !wantGood, wantGood)
		}
		if upper := strings.ToUpper(good); upper != good && VerifySignature(callbackID, upper, signKey) {
			t.Fatal("uppercase hex verified")
		}
		if signature != good && VerifySignature(callbackID, signature, signKey) {
			t.Fatalf("a signature other than Sign's verified")
		}
	})
}

func FuzzDecodeContract(f *testing.F) {
	f.Add([]byte(`{"id":1,"state":"draft","_private":{"name":"n"},"data_fields":[{"id":2,"value":"v","_private_ownerside":{"custom_id":"c"}}],"parties":[{"id":3,"my_party":true,"participants":[{"id":4,"email":"a@b"}]}],"available_options":{"delivery_channels":[{"name":"email","preferred":true}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var c Contract
		if err := decodeJSON(body, &c); err != nil {
			// The message must describe, never quote.
			_ = (&decodeError{op: "GET /contracts/{id}", err: err}).Error()
			return
		}
		// The helpers must cope with whatever decoded.
		for _, f := range c.DataFields {
			if v, ok := DataFieldValue(c, f.PrivateOwnerside.CustomID); f.PrivateOwnerside.CustomID != "" && !ok {
				t.Fatalf("a field present in the contract was not found (value %q)", v)
			}
		}
		_ = PreferredDeliveryChannel(c)
		_ = PreferredTwoStepMethod(c)
		_, _ = OwnerSideParty(c)
		for _, p := range c.Parties {
			for _, pp := range p.Participants {
				if strings.TrimSpace(pp.Email) != "" && !HasParticipantWithEmail(c, strings.ToUpper(pp.Email)) {
					t.Fatalf("a participant's own email does not match")
				}
			}
		}
	})
}

func FuzzDecodeUserPage(f *testing.F) {
	f.Add([]byte(`{"_links":{"next":{"href":"/users?offset=100"},"previous":{"href":null},"self":{"href":"/users"}},"count":2,"data":[{"id":1,"name":"A","email":"a@b","active":true,"state":"active"}]}`), 0)
	f.Fuzz(func(t *testing.T, body []byte, offset int) {
		var env listEnvelope[User]
		if err := decodeJSON(body, &env); err != nil {
			return
		}
		_ = env.hasNext(offset)
	})
}

func FuzzDecodeAPIError(f *testing.F) {
	f.Add(404, []byte(`{"error_code":4040000,"detail":"Contract 4711 not found for anna@example.se","parameter_problems":{},"request_id":"r-1","status":404,"title":"Not Found","type":"x"}`))
	f.Add(429, []byte(`{"error_code":4290000,"detail":"Too many","status":429,"title":"Too Many Requests"}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		e := decodeAPIError("GET /contracts/{id}", status, http.Header{}, body)
		matched := 0
		for _, s := range []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrValidation, ErrConflict, ErrRateLimited, ErrUnavailable, ErrUnexpected} {
			if errors.Is(e, s) {
				matched++
			}
		}
		if matched != 1 {
			t.Fatalf("status %d matches %d sentinels, want exactly 1", status, matched)
		}
		msg := e.Error()
		if len(e.Detail) >= 16 && strings.Contains(msg, e.Detail) && !strings.Contains(e.RequestID, e.Detail) {
			for _, name := range e.ProblemParameters() {
				if strings.Contains(name, e.Detail) {
					return
				}
			}
			t.Fatalf("the error text quotes Oneflow's detail")
		}
	})
}
