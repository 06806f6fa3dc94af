package flexhrm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ and run in every
// `go test`; `go test -fuzz FuzzName` explores from them.

func FuzzValidatePersonnummer(f *testing.F) {
	for _, s := range []string{"19900312-9831", "9003129831", "900312+9831", "19800474-9894", "19920229-9856", "000229-9808", "19900312-9832", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidatePersonnummer(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPersonnummer) {
				t.Fatalf("error %v does not wrap ErrInvalidPersonnummer", err)
			}
			if len(s) >= 6 && strings.Contains(err.Error(), s) {
				t.Fatalf("error repeats the input")
			}
			return
		}
		digits := strings.Map(func(r rune) rune {
			if r == '-' || r == '+' {
				return -1
			}
			return r
		}, s)
		if len(digits) != 10 && len(digits) != 12 {
			t.Fatalf("accepted %d digits", len(digits))
		}
		// An independent Luhn: double every second digit from the right
		// of the 9 payload digits, using the digit-sum table.
		ten := digits[len(digits)-10:]
		sum := 0
		for i := 8; i >= 0; i-- {
			d := int(ten[i] - '0')
			if (8-i)%2 == 0 {
				d = [...]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}[d]
			}
			sum += d
		}
		if (10-sum%10)%10 != int(ten[9]-'0') {
			t.Fatalf("accepted a wrong check digit")
		}
		// The separator is optional: the same number without it is valid too.
		if err := ValidatePersonnummer(digits); err != nil {
			t.Fatalf("valid with separator, invalid without: %v", err)
		}
	})
}

func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{"1001:api-user:secret", "1001:u:pa:ss", "1001::p", ":u:p", "no-colons", "1001:u:p w", "1001:ü:€"} {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	f.Add("not base64!")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCredentials(in)
		if err != nil {
			if !errors.Is(err, ErrMalformedCredentials) {
				t.Fatalf("error %v does not wrap ErrMalformedCredentials", err)
			}
			return
		}
		decoded, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(in))
		if derr != nil {
			t.Fatalf("accepted text that does not decode: %v", derr)
		}
		if c.CustomerNumber+":"+c.Username+":"+c.Password != string(decoded) {
			t.Fatalf("parts do not rebuild the decoded text")
		}
		if strings.Contains(c.CustomerNumber, ":") || strings.Contains(c.Username, ":") {
			t.Fatalf("split on a later colon")
		}
		if c.Encoded() != strings.TrimSpace(in) {
			t.Fatalf("Encoded() is not the original text")
		}
		if c.Validate() != nil {
			t.Fatalf("parsed credentials do not validate")
		}
		// Formatting is constant, whatever the credentials: nothing can leak.
		if c.String() != "flexhrm.Credentials[redacted]" || c.GoString() != c.String() || c.LogValue().String() != "[redacted]" {
			t.Fatalf("credentials format as %q / %q / %q", c.String(), c.GoString(), c.LogValue())
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29T00:00:00", "2024-02-29", "2024-02-29T00:00:00Z", "2024-02-29T00:00:00.0000000Z", "2023-02-29", "2024-01-01T01:00:00", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("error %v does not wrap ErrInvalidDate", err)
			}
			return
		}
		if !strings.HasPrefix(s, d.String()) {
			t.Fatalf("%q parsed as %v", s, d)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("a parsed date does not marshal: %v", err)
		}
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("round trip %s = %v, %v", b, back, err)
		}
	})
}

// FuzzDecodeEmployee: whatever Flex HRM answers, decoding never panics, and
// what decodes re-encodes to something that decodes to the same employee.
func FuzzDecodeEmployee(f *testing.F) {
	f.Add([]byte(`{"id":"e1","companyId":"c1","firstName":"Anna","emailPrivate":null,"employment":[{"employmentNumber":"1001"}]}`))
	f.Add([]byte(`{"Id":"e1","FirstName":"Anna","Extra":{"a":[1,2]},"phone1":""}`))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Employee
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("a decoded employee does not encode: %v", err)
		}
		var back Employee
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-encoded employee does not decode: %v\n%s", err, out)
		}
		e.read, back.read = nil, nil
		if !reflect.DeepEqual(e, back) {
			t.Fatalf("round trip changed the employee:\n%+v\n%+v", e, back)
		}
	})
}

// FuzzDecodeList: lists in any shape decode or fail with ErrUnexpectedResponse.
func FuzzDecodeList(f *testing.F) {
	f.Add([]byte(`{"pageIndex":0,"pageSize":20,"totalCount":1,"items":[{"id":"p1","fromDate":"2024-01-01T00:00:00","toDate":null}]}`))
	f.Add([]byte(`[{"Id":"p1","FromDate":"2024-01-01"}]`))
	f.Add([]byte(`{"data":[{"id":"p1","fromDate":"2024-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"Items":null,"TotalCount":-3}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, shape, err := decodeList[EmploymentPeriod](data)
		if err != nil {
			if !errors.Is(err, ErrUnexpectedResponse) {
				t.Fatalf("error %v does not wrap ErrUnexpectedResponse", err)
			}
			return
		}
		if shape.bare && shape.totalCount != -1 {
			t.Fatalf("a bare array claims a total")
		}
		if shape.totalCount < -1 {
			t.Fatalf("negative total %d", shape.totalCount)
		}
		for _, p := range items {
			if p.ToDate != nil && p.ToDate.IsZero() {
				t.Fatalf("an empty toDate must read as open-ended (nil)")
			}
		}
	})
}

// FuzzClassifyErrorAnswer: any error answer becomes an APIError whose text
// carries no personal data.
func FuzzClassifyErrorAnswer(f *testing.F) {
	f.Add(400, []byte(`{"code":"ValidationFailed","message":"'19900312-9831' is invalid","errors":{"nationalIdentificationNumber":["bad"]}}`))
	f.Add(409, []byte(`{"Message":"Perioden överlappar"}`))
	f.Add(401, []byte(`{"title":"Unauthorized","detail":"anna@example.se is not allowed"}`))
	f.Add(500, []byte(`<html>+46 70 174 06 05</html>`))
	f.Add(404, []byte(`{"message":"e0000000-0000-4000-8000-000000001001 not found"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := classify("op", status, http.Header{}, body)
		if e.Status != status {
			t.Fatalf("status changed")
		}
		if !utf8.ValidString(e.Message) {
			t.Fatalf("message is not UTF-8")
		}
		if utf8.RuneCountInString(e.Message) > maxMessageRunes+1 {
			t.Fatalf("message not bounded: %d runes", utf8.RuneCountInString(e.Message))
		}
		for _, text := range append([]string{e.Message}, e.Fields...) {
			for _, m := range personalData.FindAllString(text, -1) {
				if !uuidOnly.MatchString(m) && (strings.Contains(m, "@") || digitsIn(m) >= 6) {
					t.Fatalf("personal data survived in %q: %q", text, m)
				}
			}
		}
		_ = e.Error()
	})
}
