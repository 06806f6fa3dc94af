package sandbox_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// harness talks raw HTTP to a sandbox on loopback.
type harness struct {
	t    *testing.T
	srv  *sandbox.Server
	api  string // .../api
	base string // without /api
	auth string
}

func start(t *testing.T, opts ...sandbox.Option) *harness {
	t.Helper()
	srv := sandbox.New(sandbox.DefaultSeed(), opts...)
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, api: url, base: strings.TrimSuffix(url, "/api"), auth: srv.Credentials()}
}

type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a answer) code() string { s, _ := a.body["code"].(string); return s }

func (a answer) fieldErrors() []string {
	m, _ := a.body["errors"].(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (a answer) items() []any { v, _ := a.body["items"].([]any); return v }

// request sends to the API root with the sandbox's credentials unless
// headers override them ("" removes a header).
func (h *harness) request(method, path string, body io.Reader, headers map[string]string) answer {
	h.t.Helper()
	target := h.api + path
	if strings.HasPrefix(path, "/_sandbox") || strings.HasPrefix(path, "!") {
		target = h.base + strings.TrimPrefix(path, "!")
	}
	req, err := http.NewRequestWithContext(h.t.Context(), method, target, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+h.auth)
	req.Header.Set("Instance", "1001")
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (h *harness) get(path string) answer { return h.request(http.MethodGet, path, nil, nil) }

func (h *harness) sendJSON(method, path string, v any) answer {
	b, _ := json.Marshal(v)
	return h.request(method, path, bytes.NewReader(b), map[string]string{"Content-Type": "application/json"})
}

func expect(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || (code != "" && a.code() != code) {
		t.Fatalf("answer %d %s, want %d %s", a.status, a.raw, status, code)
	}
}

func TestAuthentication(t *testing.T) {
	h := start(t)
	wrongCustomer := b64("1002:flexflow-api:sandbox:pass:word")
	tests := []struct {
		name    string
		headers map[string]string
		code    string
	}{
		{"missing_instance_is_an_unknown_instance", map[string]string{"Instance": ""}, flexhrm.CodeUnknownInstance},
		{"unknown_instance_is_named_before_the_password", map[string]string{"Instance": "9999", "Authorization": "Basic " + b64("9999:x:y")}, flexhrm.CodeUnknownInstance},
		{"missing_authorization_is_unauthorized", map[string]string{"Authorization": ""}, flexhrm.CodeUnauthorized},
		{"bearer_scheme_is_unauthorized", map[string]string{"Authorization": "Bearer " + h.auth}, flexhrm.CodeUnauthorized},
		{"wrong_password_is_unauthorized", map[string]string{"Authorization": "Basic " + b64("1001:flexflow-api:sandbox:pass")}, flexhrm.CodeUnauthorized},
		{"credentials_of_another_customer_are_unauthorized", map[string]string{"Authorization": "Basic " + wrongCustomer}, flexhrm.CodeUnauthorized},
		{"garbage_base64_is_unauthorized", map[string]string{"Authorization": "Basic ***"}, flexhrm.CodeUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := h.request(http.MethodGet, "/companies", nil, tc.headers)
			expect(t, a, http.StatusUnauthorized, tc.code)
			if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("no Basic challenge")
			}
		})
	}
	t.Run("right_credentials_pass", func(t *testing.T) { expect(t, h.get("/companies"), http.StatusOK, "") })
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestRoutingAnswersLikeTheModel(t *testing.T) {
	h := start(t)
	t.Run("outside_the_api_is_a_plain_404", func(t *testing.T) {
		a := h.request(http.MethodGet, "!/companies", nil, nil)
		if a.status != 404 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("got %d %s", a.status, a.header.Get("Content-Type"))
		}
	})
	t.Run("unknown_api_path_is_a_json_404", func(t *testing.T) { expect(t, h.get("/nothing"), 404, flexhrm.CodeNotFound) })
	t.Run("trailing_slash_is_not_the_resource", func(t *testing.T) { expect(t, h.get("/companies/"), 404, flexhrm.CodeNotFound) })
	t.Run("wrong_method_is_405_with_allow", func(t *testing.T) {
		a := h.request(http.MethodDelete, "/employees/"+sandbox.EmployeeAnna, nil, nil)
		expect(t, a, 405, flexhrm.CodeMethodNotAllowed)
		if a.header.Get("Allow") != "GET, PUT" {
			t.Fatalf("Allow = %q", a.header.Get("Allow"))
		}
	})
	t.Run("error_body_has_code_message_and_errors", func(t *testing.T) {
		a := h.get("/employees?employmentnumber=1&bogus=1")
		expect(t, a, 400, flexhrm.CodeValidationFailed)
		if a.body["message"] == "" || strings.Join(a.fieldErrors(), ",") != "bogus" {
			t.Fatalf("body = %s", a.raw)
		}
	})
	t.Run("repeated_parameter_is_refused", func(t *testing.T) {
		expect(t, h.get("/employees?employmentnumber=1&employmentnumber=2"), 400, flexhrm.CodeValidationFailed)
	})
	t.Run("id_that_is_not_a_uuid_is_not_found", func(t *testing.T) { expect(t, h.get("/employees/anna"), 404, flexhrm.CodeNotFound) })
	t.Run("inaccessible_company_is_forbidden_everywhere", func(t *testing.T) {
		for _, p := range []string{"/companies/" + sandbox.CompanyHidden, "/employees/" + sandbox.EmployeeHidden,
			"/employees?employmentnumber=4001&companyId=" + sandbox.CompanyHidden, "/documentcategories?companyId=" + sandbox.CompanyHidden,
			"/employmenttitles?companyId=" + sandbox.CompanyHidden, "/employmentdocuments?companyId=" + sandbox.CompanyHidden,
			"/employmentperiods?employeeId=" + sandbox.EmployeeHidden} {
			expect(t, h.get(p), 403, flexhrm.CodeForbidden)
		}
		if a := h.get("/employees?employmentnumber=4001"); len(a.items()) != 0 {
			t.Fatalf("the inaccessible company's employee is found: %s", a.raw)
		}
	})
	t.Run("required_parameters_are_named", func(t *testing.T) {
		for path, field := range map[string]string{"/employmentperiods": "employeeId", "/employmenttitles": "companyId", "/documentcategories": "companyId", "/employmentdocuments": "companyId"} {
			a := h.get(path)
			expect(t, a, 400, flexhrm.CodeValidationFailed)
			if strings.Join(a.fieldErrors(), ",") != field {
				t.Errorf("%s: fields %v, want %s", path, a.fieldErrors(), field)
			}
		}
	})
}

func TestPaging(t *testing.T) {
	h := start(t)
	for i := range 25 {
		_, err := h.srv.AddEmployee(sandbox.Employee{CompanyID: sandbox.CompanyB, Employment: []sandbox.Employment{{EmploymentNumber: fmt.Sprint(5000 + i)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	list := "/employees?companyId=" + sandbox.CompanyB
	a := h.get(list)
	expect(t, a, 200, "")
	if len(a.items()) != 20 || a.body["pageSize"] != 20.0 || a.body["pageIndex"] != 0.0 || a.body["totalCount"] != 26.0 {
		t.Fatalf("default page: %d items, envelope %v %v %v", len(a.items()), a.body["pageIndex"], a.body["pageSize"], a.body["totalCount"])
	}
	if a := h.get(list + "&pageIndex=1"); len(a.items()) != 6 {
		t.Fatalf("second page has %d items", len(a.items()))
	}
	if a := h.get(list + "&pageSize=100"); len(a.items()) != 26 {
		t.Fatalf("page of 100 has %d items", len(a.items()))
	}
	if a := h.get(list + "&pageIndex=9"); a.items() == nil || len(a.items()) != 0 {
		t.Fatalf("a page past the end is %s, want an empty items array", a.raw)
	}
	for _, bad := range []string{"&pageSize=101", "&pageSize=0", "&pageSize=x", "&pageIndex=-1", "&pageIndex=1.5"} {
		expect(t, h.get(list+bad), 400, flexhrm.CodeValidationFailed)
	}
}

func TestEmployeeUpdate(t *testing.T) {
	h := start(t)
	path := "/employees/" + sandbox.EmployeeAnna
	original := h.get(path).body

	t.Run("read_only_fields_are_ignored_and_missing_ones_become_null", func(t *testing.T) {
		body := map[string]any{}
		for k, v := range original {
			body[k] = v
		}
		body["name"] = "Someone Else"
		body["companyId"] = sandbox.CompanyB
		body["instanceId"] = "00000000-0000-4000-8000-000000000000"
		body["immediateManagerEmployeeId"] = nil
		body["employment"] = []any{map[string]any{"employmentNumber": "9"}}
		body["lastName"] = "Lindström-Berg"
		delete(body, "phone4")
		a := h.sendJSON(http.MethodPut, path, body)
		expect(t, a, 200, "")
		got := h.get(path).body
		if got["name"] != "Anna Lindström-Berg" || got["companyId"] != sandbox.CompanyA || got["instanceId"] != original["instanceId"] ||
			got["immediateManagerEmployeeId"] != sandbox.EmployeeMaria || got["employment"].([]any)[0].(map[string]any)["employmentNumber"] != "1001" {
			t.Fatalf("read-only fields changed: %v", got)
		}
		if got["phone4"] != nil {
			t.Fatalf("a property missing from the PUT was kept: %v", got["phone4"])
		}
	})
	t.Run("pascal_case_body_is_read", func(t *testing.T) {
		expect(t, h.sendJSON(http.MethodPut, path, map[string]any{"FirstName": "Anna", "LastName": "L", "City": "Visby"}), 200, "")
		if h.get(path).body["city"] != "Visby" {
			t.Fatal("PascalCase property ignored")
		}
	})
	t.Run("valid_national_ids_are_accepted", func(t *testing.T) {
		for _, id := range []string{"19900312-9831", "9003129831", "900312+9831", "19800474-9894", ""} {
			expect(t, h.sendJSON(http.MethodPut, path, map[string]any{"nationalIdentificationNumber": id}), 200, "")
		}
	})
	t.Run("invalid_national_id_is_refused_without_echo", func(t *testing.T) {
		for _, id := range []string{"19900312-9832", "19930229-9806", "19900312", "abcdefghijkl", "19900372-9831"} {
			a := h.sendJSON(http.MethodPut, path, map[string]any{"nationalIdentificationNumber": id})
			expect(t, a, 400, flexhrm.CodeValidationFailed)
			if strings.Join(a.fieldErrors(), ",") != "nationalIdentificationNumber" || strings.Contains(string(a.raw), id) {
				t.Fatalf("%s: %s", id, a.raw)
			}
		}
	})
	t.Run("other_id_in_the_body_is_refused", func(t *testing.T) {
		expect(t, h.sendJSON(http.MethodPut, path, map[string]any{"id": sandbox.EmployeeMaria}), 400, flexhrm.CodeValidationFailed)
	})
	t.Run("unknown_property_is_refused_and_named", func(t *testing.T) {
		a := h.sendJSON(http.MethodPut, path, map[string]any{"shoeSize": 42})
		expect(t, a, 400, flexhrm.CodeValidationFailed)
		if strings.Join(a.fieldErrors(), ",") != "shoeSize" {
			t.Fatalf("%s", a.raw)
		}
	})
	t.Run("body_that_is_not_json_is_unsupported", func(t *testing.T) {
		expect(t, h.request(http.MethodPut, path, strings.NewReader("firstName=x"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), 415, flexhrm.CodeUnsupportedMediaType)
	})
	t.Run("malformed_json_is_refused", func(t *testing.T) {
		expect(t, h.request(http.MethodPut, path, strings.NewReader("{"), map[string]string{"Content-Type": "application/json"}), 400, flexhrm.CodeValidationFailed)
	})
}

func TestEmploymentPeriodRules(t *testing.T) {
	h := start(t)
	const instance = "0f1e0000-0000-4000-8000-000000000001"
	period := func(from, to any) map[string]any {
		return map[string]any{"companyId": sandbox.CompanyA, "employeeId": sandbox.EmployeeAnna, "instanceId": instance, "fromDate": from, "toDate": to}
	}
	// Anna has 2019-01-01..2021-12-31 and 2022-01-01..open.
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		fields string
	}{
		{"ending_the_day_the_past_period_starts_overlaps", period("2018-01-01", "2019-01-01"), 400, flexhrm.CodeOverlappingDates, ""},
		{"starting_after_an_open_period_overlaps_it", period("2099-01-01T00:00:00", nil), 400, flexhrm.CodeOverlappingDates, ""},
		{"ending_the_day_before_is_fine", period("2018-01-01T00:00:00", "2018-12-31T00:00:00"), 201, "", ""},
		{"single_day_between_is_fine", period("2017-06-01", "2017-06-01"), 201, "", ""},
		{"to_date_before_from_date_is_refused", period("2010-02-01", "2010-01-31"), 400, flexhrm.CodeValidationFailed, "toDate"},
		{"missing_required_fields_are_named", map[string]any{"toDate": nil}, 400, flexhrm.CodeValidationFailed, "companyId,employeeId,fromDate,instanceId"},
		{"date_with_a_zone_is_refused", period("2005-01-01T00:00:00Z", nil), 400, flexhrm.CodeValidationFailed, "fromDate"},
		{"date_that_does_not_exist_is_refused", period("2005-02-30", nil), 400, flexhrm.CodeValidationFailed, "fromDate"},
		{"another_instance_is_refused", map[string]any{"companyId": sandbox.CompanyA, "employeeId": sandbox.EmployeeAnna, "instanceId": "00000000-0000-4000-8000-000000000001", "fromDate": "2005-01-01"}, 400, flexhrm.CodeValidationFailed, "instanceId"},
		{"employee_of_another_company_is_refused", map[string]any{"companyId": sandbox.CompanyB, "employeeId": sandbox.EmployeeAnna, "instanceId": instance, "fromDate": "2005-01-01"}, 400, flexhrm.CodeValidationFailed, "employeeId"},
		{"title_of_another_company_is_refused", map[string]any{"companyId": sandbox.CompanyA, "employeeId": sandbox.EmployeeAnna, "instanceId": instance, "fromDate": "2005-01-01", "titleId": "71000000-0000-4000-8000-0000000000b1"}, 400, flexhrm.CodeValidationFailed, "titleId"},
		{"inaccessible_company_is_forbidden", map[string]any{"companyId": sandbox.CompanyHidden, "employeeId": sandbox.EmployeeHidden, "instanceId": instance, "fromDate": "2005-01-01"}, 403, flexhrm.CodeForbidden, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := h.sendJSON(http.MethodPost, "/employmentperiods", tc.body)
			expect(t, a, tc.status, tc.code)
			if tc.fields != "" {
				got := a.fieldErrors()
				slicesSort(got)
				if strings.Join(got, ",") != tc.fields {
					t.Fatalf("fields %v, want %s", got, tc.fields)
				}
			}
			if tc.status == 201 && (a.body["id"] == "" || !strings.HasSuffix(a.header.Get("Location"), a.body["id"].(string))) {
				t.Fatalf("created %s, Location %q", a.raw, a.header.Get("Location"))
			}
		})
	}
	t.Run("update_may_keep_its_own_dates_and_not_move_to_another_employee", func(t *testing.T) {
		path := "/employmentperiods/" + sandbox.PeriodAnnaCurrent
		same := period("2022-01-01T00:00:00", nil)
		same["titleId"] = sandbox.TitleUtvecklare
		a := h.sendJSON(http.MethodPut, path, same)
		expect(t, a, 200, "")
		if a.body["titleId"] != sandbox.TitleUtvecklare {
			t.Fatalf("%s", a.raw)
		}
		moved := period("2022-01-01", nil)
		moved["employeeId"] = sandbox.EmployeeNoManager
		expect(t, h.sendJSON(http.MethodPut, path, moved), 400, flexhrm.CodeValidationFailed)
		expect(t, h.sendJSON(http.MethodPut, path, period("2021-12-31", nil)), 400, flexhrm.CodeOverlappingDates)
		expect(t, h.sendJSON(http.MethodPut, "/employmentperiods/90000000-0000-4000-8000-00000000ffff", same), 404, flexhrm.CodeNotFound)
	})
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// upload builds a multipart body with one part named name.
func upload(name, partType string, content []byte) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"; filename="doc.pdf"`)
	if partType != "" {
		h.Set("Content-Type", partType)
	}
	w, _ := mw.CreatePart(h)
	_, _ = w.Write(content)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func uploadPath(employee, category, title string) string {
	return "/employeedocuments?employeeId=" + employee + "&documentCategoryId=" + category + "&title=" + url.QueryEscape(title)
}

func TestUploadRules(t *testing.T) {
	h := start(t, sandbox.WithDocumentContent())
	pdf := []byte("%PDF-1.4\n% a tiny test document\n%%EOF\n")
	send := func(path, partName, partType string, content []byte) answer {
		body, ct := upload(partName, partType, content)
		return h.request(http.MethodPost, path, body, map[string]string{"Content-Type": ct})
	}
	ok := uploadPath(sandbox.EmployeeAnna, sandbox.CategoryOneflowA, "Avtal - Signed.pdf")
	tests := []struct {
		name     string
		path     string
		partName string
		partType string
		status   int
		code     string
	}{
		{"pdf_is_stored", ok, "file", "application/pdf", 201, ""},
		{"title_of_200_characters_is_stored", uploadPath(sandbox.EmployeeAnna, sandbox.CategoryOneflowA, strings.Repeat("å", 200)), "file", "application/pdf", 201, ""},
		{"title_of_201_characters_is_too_long", uploadPath(sandbox.EmployeeAnna, sandbox.CategoryOneflowA, strings.Repeat("å", 201)), "file", "application/pdf", 400, flexhrm.CodeDocumentNameTooLong},
		{"part_that_is_not_a_pdf_is_unsupported", ok, "file", "image/png", 415, flexhrm.CodeUnsupportedMediaType},
		{"part_without_a_type_is_unsupported", ok, "file", "", 415, flexhrm.CodeUnsupportedMediaType},
		{"part_with_another_name_is_missing_the_file", ok, "document", "application/pdf", 400, flexhrm.CodeValidationFailed},
		{"category_outside_the_register_is_refused", uploadPath(sandbox.EmployeeAnna, sandbox.CategoryOneflowArkivA, "x.pdf"), "file", "application/pdf", 400, flexhrm.CodeCategoryNotUsedInEmploymentRegister},
		{"category_of_another_company_is_refused", uploadPath(sandbox.EmployeeAnna, sandbox.CategoryOneflowB, "x.pdf"), "file", "application/pdf", 400, flexhrm.CodeValidationFailed},
		{"unknown_employee_is_not_found", uploadPath("e0000000-0000-4000-8000-00000000ffff", sandbox.CategoryOneflowA, "x.pdf"), "file", "application/pdf", 404, flexhrm.CodeNotFound},
		{"inaccessible_employee_is_forbidden", uploadPath(sandbox.EmployeeHidden, "ca000000-0000-4000-8000-0000000000d1", "x.pdf"), "file", "application/pdf", 403, flexhrm.CodeForbidden},
		{"missing_title_is_refused", "/employeedocuments?employeeId=" + sandbox.EmployeeAnna + "&documentCategoryId=" + sandbox.CategoryOneflowA, "file", "application/pdf", 400, flexhrm.CodeValidationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, send(tc.path, tc.partName, tc.partType, pdf), tc.status, tc.code)
		})
	}
	t.Run("body_that_is_not_multipart_is_unsupported", func(t *testing.T) {
		expect(t, h.request(http.MethodPost, ok, bytes.NewReader(pdf), map[string]string{"Content-Type": "application/pdf"}), 415, flexhrm.CodeUnsupportedMediaType)
	})
	t.Run("stored_documents_carry_hash_size_and_bytes", func(t *testing.T) {
		sum := sha256.Sum256(pdf)
		docs := h.srv.State().Documents
		if len(docs) != 2 {
			t.Fatalf("%d documents stored, want 2", len(docs))
		}
		d := docs[0]
		if d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(pdf)) || d.ContentLength != d.Size || d.FileName != "doc.pdf" || d.Title != "Avtal - Signed.pdf" {
			t.Fatalf("stored %+v", d)
		}
		if content, ok := h.srv.DocumentContent(d.ID); !ok || !bytes.Equal(content, pdf) {
			t.Fatal("content not kept")
		}
		listed := h.get("/employmentdocuments?companyId=" + sandbox.CompanyA + "&employeeId=" + sandbox.EmployeeAnna + "&documentCategoryId=" + sandbox.CategoryOneflowA)
		if len(listed.items()) != 2 {
			t.Fatalf("listed %s", listed.raw)
		}
		if other := h.get("/employmentdocuments?companyId=" + sandbox.CompanyA + "&employeeId=" + sandbox.EmployeeMaria); len(other.items()) != 0 {
			t.Fatalf("another employee's list has %s", other.raw)
		}
	})
	t.Run("exactly_25_MiB_is_accepted_and_one_byte_more_refused", func(t *testing.T) {
		big := bytes.Repeat([]byte{'x'}, flexhrm.MaxUploadBytes)
		expect(t, send(ok, "file", "application/pdf", big), 201, "")
		expect(t, send(ok, "file", "application/pdf", append(big, 'y')), 413, flexhrm.CodePayloadTooLarge)
	})
	t.Run("announced_length_over_the_limit_is_refused", func(t *testing.T) {
		body, ct := upload("file", "application/pdf", make([]byte, 30<<20))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.api+ok, body)
		req.Header.Set("Authorization", "Basic "+h.auth)
		req.Header.Set("Instance", "1001")
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestKnobsOverHTTP(t *testing.T) {
	h := start(t)
	post := func(path string, v any) answer { return h.sendJSON(http.MethodPost, "!"+path, v) }

	t.Run("fail_next_by_path_id_method_and_prefix", func(t *testing.T) {
		expect(t, post("/_sandbox/fail-next", map[string]any{"pathId": "P2", "count": 2, "status": 503, "retryAfterSeconds": 3}), 204, "")
		expect(t, post("/_sandbox/fail-next", map[string]any{"path": "/companies", "method": "GET", "count": 1, "status": 502}), 204, "")
		a := h.get("/employees/" + sandbox.EmployeeAnna)
		expect(t, a, 503, flexhrm.CodeServiceUnavailable)
		if a.header.Get("Retry-After") != "3" {
			t.Fatalf("Retry-After = %q", a.header.Get("Retry-After"))
		}
		expect(t, h.get("/employees/"+sandbox.EmployeeAnna), 503, "")
		expect(t, h.get("/employees/"+sandbox.EmployeeAnna), 200, "")
		expect(t, h.get("/companies/"+sandbox.CompanyA), 502, flexhrm.CodeBadGateway)
		expect(t, h.get("/companies"), 200, "")
		expect(t, post("/_sandbox/fail-next", map[string]any{"count": 0, "status": 503}), 400, "")
	})
	t.Run("fail_rate_of_one_fails_everything_and_zero_turns_it_off", func(t *testing.T) {
		expect(t, post("/_sandbox/fail-rate", map[string]any{"ratio": 1, "statuses": []int{500}}), 204, "")
		expect(t, h.get("/companies"), 500, flexhrm.CodeInternalError)
		expect(t, post("/_sandbox/fail-rate", map[string]any{"ratio": 0}), 204, "")
		expect(t, h.get("/companies"), 200, "")
	})
	t.Run("rate_limit_answers_429_with_retry_after", func(t *testing.T) {
		expect(t, post("/_sandbox/rate-limit", map[string]any{"requestsPerSecond": 0.001, "burst": 1, "retryAfterSeconds": 2}), 204, "")
		expect(t, h.get("/companies"), 200, "")
		a := h.get("/companies")
		expect(t, a, 429, flexhrm.CodeRateLimited)
		if a.header.Get("Retry-After") != "2" {
			t.Fatalf("Retry-After = %q", a.header.Get("Retry-After"))
		}
		expect(t, post("/_sandbox/rate-limit", map[string]any{"requestsPerSecond": 0}), 204, "")
		expect(t, h.get("/companies"), 200, "")
	})
	t.Run("latency_delays_answers", func(t *testing.T) {
		expect(t, post("/_sandbox/latency", map[string]any{"milliseconds": 100}), 204, "")
		started := time.Now()
		expect(t, h.get("/companies"), 200, "")
		if time.Since(started) < 100*time.Millisecond { // a lower bound, never a deadline
			t.Fatal("answered before the added latency")
		}
		expect(t, post("/_sandbox/latency", map[string]any{"milliseconds": 0}), 204, "")
	})
	t.Run("request_log_lists_served_requests", func(t *testing.T) {
		expect(t, h.request(http.MethodDelete, "/_sandbox/requests", nil, nil), 204, "")
		h.get("/employees?employmentnumber=1001")
		var reqs []sandbox.RequestRecord
		a := h.get("/_sandbox/requests")
		if err := json.Unmarshal(a.raw, &reqs); err != nil || len(reqs) != 1 {
			t.Fatalf("requests = %s", a.raw)
		}
		r := reqs[0]
		if r.Method != "GET" || r.Path != "/employees" || r.Query != "employmentnumber=1001" || r.PathID != "P1" || r.Status != 200 || r.Seq == 0 {
			t.Fatalf("logged %+v", r)
		}
		var since []sandbox.RequestRecord
		_ = json.Unmarshal(h.get(fmt.Sprintf("/_sandbox/requests?since=%d", r.Seq)).raw, &since)
		if len(since) != 0 {
			t.Fatalf("since filter returned %d", len(since))
		}
	})
	t.Run("categories_can_be_added_and_removed", func(t *testing.T) {
		a := post("/_sandbox/categories", map[string]any{"companyId": sandbox.CompanyC, "name": "Oneflow Documents", "usedInEmploymentRegister": true})
		expect(t, a, 201, "")
		id, _ := a.body["id"].(string)
		if n := len(h.get("/documentcategories?companyId=" + sandbox.CompanyC).items()); n != 2 {
			t.Fatalf("company C has %d categories after adding one", n)
		}
		expect(t, h.request(http.MethodDelete, "/_sandbox/categories/"+id, nil, nil), 204, "")
		if n := len(h.get("/documentcategories?companyId=" + sandbox.CompanyC).items()); n != 1 {
			t.Fatalf("company C has %d categories after removing it", n)
		}
	})
	t.Run("employees_can_be_added", func(t *testing.T) {
		first, last := "Ny", "Anställd"
		a := post("/_sandbox/employees", map[string]any{"companyId": sandbox.CompanyB, "firstName": first, "lastName": last, "employment": []any{map[string]any{"employmentNumber": "7001"}}})
		expect(t, a, 201, "")
		found := h.get("/employees?employmentnumber=7001")
		if len(found.items()) != 1 || found.items()[0].(map[string]any)["name"] != "Ny Anställd" {
			t.Fatalf("added employee not found: %s", found.raw)
		}
		expect(t, post("/_sandbox/employees", map[string]any{"companyId": sandbox.CompanyB, "employment": []any{map[string]any{"employmentNumber": "7001"}}}), 400, "")
	})
	t.Run("credentials_can_be_revoked_and_restored", func(t *testing.T) {
		a := h.get("/_sandbox/credentials")
		if a.body["credentials"] != h.auth {
			t.Fatalf("credentials = %s", a.raw)
		}
		expect(t, post("/_sandbox/credentials", map[string]any{"revoked": true}), 204, "")
		expect(t, h.get("/companies"), 401, flexhrm.CodeUnauthorized)
		expect(t, post("/_sandbox/credentials", map[string]any{"revoked": false}), 204, "")
		expect(t, h.get("/companies"), 200, "")
	})
	t.Run("state_and_reset", func(t *testing.T) {
		expect(t, h.sendJSON(http.MethodPut, "/employees/"+sandbox.EmployeeAnna, map[string]any{"firstName": "Annie", "lastName": "L"}), 200, "")
		var st sandbox.State
		if err := json.Unmarshal(h.get("/_sandbox/state").raw, &st); err != nil || len(st.Employees) == 0 {
			t.Fatalf("state: %v", err)
		}
		expect(t, post("/_sandbox/fail-next", map[string]any{"count": 5, "status": 500}), 204, "")
		expect(t, post("/_sandbox/reset", map[string]any{}), 204, "")
		if got := h.get("/employees/" + sandbox.EmployeeAnna).body["firstName"]; got != "Anna" {
			t.Fatalf("after reset firstName = %v (and fail-next must be cleared)", got)
		}
		if n := len(h.srv.Requests()); n != 1 {
			t.Fatalf("request log after reset has %d entries, want 1", n)
		}
	})
	t.Run("unknown_knob_and_bad_body", func(t *testing.T) {
		expect(t, h.get("/_sandbox/nothing"), 404, "")
		expect(t, post("/_sandbox/latency", map[string]any{"seconds": 1}), 400, "")
		expect(t, h.get("/_sandbox/"), 200, "")
	})
}
