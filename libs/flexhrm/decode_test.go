package flexhrm

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecodeListAcceptsEveryToleratedShape(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantIDs   []string
		wantTotal int
		wantBare  bool
	}{
		{"model_envelope", `{"pageIndex":0,"pageSize":20,"totalCount":2,"items":[{"id":"a"},{"id":"b"}]}`, []string{"a", "b"}, 2, false},
		{"bare_array", `[{"id":"a"}]`, []string{"a"}, -1, true},
		{"pascal_case_envelope", `{"PageIndex":0,"PageSize":20,"TotalCount":1,"Items":[{"Id":"a"}]}`, []string{"a"}, 1, false},
		{"data_envelope_without_count", `{"data":[{"ID":"a"}]}`, []string{"a"}, -1, false},
		{"null_items", `{"items":null,"totalCount":0}`, nil, 0, false},
		{"leading_white_space", " \n\t[]", nil, -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, shape, err := decodeList[Company]([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range items {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tc.wantIDs) || shape.totalCount != tc.wantTotal || shape.bare != tc.wantBare {
				t.Fatalf("ids %v total %d bare %v", ids, shape.totalCount, shape.bare)
			}
		})
	}
}

func TestDecodeListRefusesWhatIsNotAList(t *testing.T) {
	for _, body := range []string{``, `<html>`, `{"value":[]}`, `{"items":{}}`, `"x"`, `[1,2]`, `{"items":[`} {
		if _, _, err := decodeList[Company]([]byte(body)); !errors.Is(err, ErrUnexpectedResponse) {
			t.Errorf("decodeList(%q) = %v, want ErrUnexpectedResponse", body, err)
		}
	}
}

func TestDecodeErrorsDoNotQuoteTheDocument(t *testing.T) {
	body := `{"items":[{"id":"a","name":19900312}]}`
	_, _, err := decodeList[Company]([]byte(body))
	if err == nil || strings.Contains(err.Error(), "19900312") {
		t.Fatalf("err = %v", err)
	}
}

func TestClassifyMapsAnswersToSentinels(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   []error
		not    []error
	}{
		{"overlap_by_code", 400, `{"code":"OverlappingDates","message":"x"}`, []error{ErrOverlappingDates}, []error{ErrValidation}},
		{"overlap_by_english_message_on_409", 409, `{"message":"Period overlaps an existing period"}`, []error{ErrOverlappingDates}, nil},
		{"overlap_by_swedish_message_in_detail", 400, `{"title":"Fel","detail":"Perioden överlappar en annan"}`, []error{ErrOverlappingDates}, nil},
		{"overlap_in_a_field_message", 400, `{"errors":{"toDate":["Overlapping period"]}}`, []error{ErrOverlappingDates}, nil},
		{"overlap_word_on_500_is_not_an_overlap", 500, `{"message":"overlap check crashed"}`, []error{ErrUnavailable}, []error{ErrOverlappingDates}},
		{"name_too_long", 400, `{"code":"DocumentNameTooLong"}`, []error{ErrNameTooLong}, []error{ErrValidation}},
		{"category_outside_register", 400, `{"code":"CategoryNotUsedInEmploymentRegister"}`, []error{ErrCategoryNotInEmploymentRegister}, nil},
		{"validation", 400, `{"code":"ValidationFailed","errors":{"nationalIdentificationNumber":["bad"]}}`, []error{ErrValidation}, nil},
		{"unauthorized", 401, `{"code":"Unauthorized"}`, []error{ErrUnauthorized}, []error{ErrUnknownCustomerNumber}},
		{"unknown_instance_by_code", 401, `{"code":"UnknownInstance"}`, []error{ErrUnauthorized, ErrUnknownCustomerNumber}, nil},
		{"unknown_instance_by_message", 401, `{"Message":"Invalid instance"}`, []error{ErrUnauthorized, ErrUnknownCustomerNumber}, nil},
		{"forbidden", 403, ``, []error{ErrForbidden}, nil},
		{"not_found_with_html", 404, `<html>nope</html>`, []error{ErrNotFound}, nil},
		{"payload_too_large", 413, ``, []error{ErrPayloadTooLarge}, nil},
		{"unsupported_media_type", 415, ``, []error{ErrUnsupportedMediaType}, nil},
		{"rate_limited", 429, `{"code":"RateLimited"}`, []error{ErrRateLimited}, nil},
		{"internal_error", 500, `{"code":"InternalError"}`, []error{ErrUnavailable}, nil},
		{"bad_gateway", 502, ``, []error{ErrUnavailable}, nil},
		{"method_not_allowed_has_no_sentinel", 405, `{"code":"MethodNotAllowed"}`, nil, []error{ErrNotFound, ErrValidation, ErrUnavailable}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := classify("op", tc.status, http.Header{}, []byte(tc.body))
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%v is not %v", err, w)
				}
			}
			for _, n := range tc.not {
				if errors.Is(err, n) {
					t.Errorf("%v is %v", err, n)
				}
			}
			var apiErr *APIError
			if !errors.As(error(err), &apiErr) || apiErr.Status != tc.status {
				t.Errorf("not an APIError with status %d", tc.status)
			}
		})
	}
}

func TestClassifyReadsMessagesFieldsAndRetryAfter(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	err := classify("list companies", 429, h, []byte(`{"Code":"RateLimited","Message":"slow down"}`))
	if err.Code != "RateLimited" || err.Message != "slow down" || err.RetryAfter != 7*time.Second {
		t.Fatalf("got %+v", err)
	}
	err = classify("update employee", 400, http.Header{}, []byte(`{"title":"One or more validation errors occurred.","errors":{"phone4":["x"],"emailWork":["y"]}}`))
	if err.Message != "One or more validation errors occurred." || !slices.Equal(err.Fields, []string{"emailWork", "phone4"}) {
		t.Fatalf("got %+v", err)
	}
	if !strings.Contains(err.Error(), "update employee") || !strings.Contains(err.Error(), "emailWork") {
		t.Fatalf("Error() = %q", err.Error())
	}
}

func TestParseRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "3": 3 * time.Second, " 2 ": 2 * time.Second, "-1": 0, "soon": 0, "Wed, 21 Oct 2015 07:28:00 GMT": 0, "999999999": 0} {
		if got := parseRetryAfter(in); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestScrubRemovesPersonalData(t *testing.T) {
	tests := []struct {
		in   string
		gone []string
		kept []string
	}{
		{"'19900312-9831' is not a valid personnummer", []string{"19900312", "9831"}, []string{"not a valid personnummer"}},
		{"900312-9831 invalid", []string{"900312"}, []string{"invalid"}},
		{"Email anna.lindstrom@example.se already used", []string{"anna.lindstrom", "example.se"}, []string{"already used"}},
		{"Phone +46 70 174 06 05 is invalid", []string{"174 06 05", "+46"}, []string{"is invalid"}},
		{"Employee e0000000-0000-4000-8000-000000001001 not found", nil, []string{"e0000000-0000-4000-8000-000000001001"}},
		{"Page 2 of 3", nil, []string{"Page 2 of 3"}},
		{"line\nbreak\x00", []string{"\n", "\x00"}, []string{"line break"}},
	}
	for _, tc := range tests {
		got := scrub(tc.in)
		for _, g := range tc.gone {
			if strings.Contains(got, g) {
				t.Errorf("scrub(%q) = %q still has %q", tc.in, got, g)
			}
		}
		for _, k := range tc.kept {
			if !strings.Contains(got, k) {
				t.Errorf("scrub(%q) = %q lost %q", tc.in, got, k)
			}
		}
	}
	long := strings.Repeat("å", 1000)
	if got := scrub(long); len([]rune(got)) != maxMessageRunes+1 {
		t.Errorf("long message kept %d runes", len([]rune(got)))
	}
}

func TestExpandFillsTemplates(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		v    vars
		want string
		err  bool
	}{
		{"empty_query_values_are_left_out", DefaultPaths().FindEmployees, vars{"employmentNumber": "1001", "pageIndex": "0", "pageSize": "100"}, "/employees?employmentnumber=1001&pageIndex=0&pageSize=100", false},
		{"query_values_are_escaped", DefaultPaths().UploadEmployeeDocument, vars{"employeeId": "e", "documentCategoryId": "c", "title": "Anna & Bo: avtal/2024 - Signed.pdf"}, "/employeedocuments?employeeId=e&documentCategoryId=c&title=Anna+%26+Bo%3A+avtal%2F2024+-+Signed.pdf", false},
		{"path_values_are_escaped", DefaultPaths().GetEmployee, vars{"id": "../companies"}, "/employees/..%2Fcompanies", false},
		{"empty_path_value_is_an_error", DefaultPaths().GetEmployee, vars{}, "", true},
		{"literal_query_values_are_kept", "/x?fixed=1&v={id}", vars{"id": "a"}, "/x?fixed=1&v=a", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expand(tc.tmpl, tc.v)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("expand = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestPathsValidate(t *testing.T) {
	if err := DefaultPaths().Validate(); err != nil {
		t.Fatalf("default paths: %v", err)
	}
	p := DefaultPaths()
	p.GetEmployee = "/people/{personId}"
	p.ListCompanies = ""
	p.GetCompany = "companies/{id}"
	err := p.Validate()
	for _, want := range []string{"GetEmployee uses unknown placeholder {personId}", "ListCompanies is empty", "GetCompany must start with /"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
}

func TestEmployeeRoundTripKeepsWhatItRead(t *testing.T) {
	in := `{"Id":"e1","companyId":"c1","firstName":"Anna","lastName":"L","emailPrivate":null,"phone1":"",
	        "employment":[{"employmentNumber":"1001"}],"costCentre":{"code":"42"},"FlexOnlyFlag":true}`
	var e Employee
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != "e1" || e.FirstName != "Anna" || e.EmploymentNumber() != "1001" {
		t.Fatalf("decoded %+v", e)
	}
	e.City = "Lund"
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id": `"e1"`, "city": `"Lund"`, "costCentre": `{"code":"42"}`, "FlexOnlyFlag": `true`,
		"emailPrivate": `null`, "phone1": `""`, "phone2": `null`,
	}
	for k, v := range want {
		if string(m[k]) != v {
			t.Errorf("%s = %s, want %s", k, m[k], v)
		}
	}
	if _, dup := m["Id"]; dup {
		t.Errorf("the PascalCase key was sent beside the camelCase one")
	}
}

func TestNewEmploymentPeriodOmitsItsIDAndWritesNulls(t *testing.T) {
	to := NewDate(2024, 12, 31)
	out, err := json.Marshal(EmploymentPeriod{CompanyID: "c", EmployeeID: "e", InstanceID: "i", FromDate: NewDate(2024, 1, 1), ToDate: &to})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"companyId":"c","employeeId":"e","employmentTypeId":null,"fromDate":"2024-01-01T00:00:00","instanceId":"i","titleId":null,"toDate":"2024-12-31T00:00:00"}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestEmployeeNeverFormatsPersonalData(t *testing.T) {
	e := Employee{ID: "e1", CompanyID: "c1", FirstName: "Anna", NationalIdentificationNumber: "19900312-9831", EmailWork: "anna@example.se"}
	for _, out := range []string{e.String(), e.GoString(), e.LogValue().String()} {
		if strings.Contains(out, "Anna") || strings.Contains(out, "9831") || strings.Contains(out, "example.se") {
			t.Errorf("formatted employee shows personal data: %s", out)
		}
	}
}

func TestDocumentCreatedIsReadTolerantly(t *testing.T) {
	for in, want := range map[string]time.Time{
		`"2024-05-01T10:15:30Z"`:        time.Date(2024, 5, 1, 10, 15, 30, 0, time.UTC),
		`"2024-05-01T10:15:30.1234567"`: time.Date(2024, 5, 1, 10, 15, 30, 123456700, time.UTC),
		`"2024-05-01T12:15:30+02:00"`:   time.Date(2024, 5, 1, 10, 15, 30, 0, time.UTC),
		`"2024-05-01"`:                  time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		`null`:                          {},
	} {
		var d Document
		if err := json.Unmarshal([]byte(`{"id":"d","created":`+in+`}`), &d); err != nil || !d.Created.Equal(want) || d.ID != "d" {
			t.Errorf("created %s = %v, %v; want %v", in, d.Created, err, want)
		}
	}
	var d Document
	if err := json.Unmarshal([]byte(`{"created":"yesterday"}`), &d); err == nil {
		t.Error("a non-timestamp was accepted")
	}
}
