package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

// fieldErrors is the "errors" member of the model's error body.
type fieldErrors map[string][]string

func (f fieldErrors) add(field, msg string) { f[field] = append(f[field], msg) }

type errorBody struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Errors  fieldErrors `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"code":"InternalError","message":"Encoding the answer failed."}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError answers the model's error body, after draining what the client
// is still sending.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string, fields fieldErrors) {
	drain(r)
	if len(fields) == 0 {
		fields = nil
	}
	writeJSON(w, status, errorBody{Code: code, Message: message, Errors: fields})
}

func validationFailed(w http.ResponseWriter, r *http.Request, fields fieldErrors) {
	writeError(w, r, http.StatusBadRequest, flexhrm.CodeValidationFailed, "One or more fields are invalid.", fields)
}

// statusError answers a 403 or 404 from a lookup.
func statusError(w http.ResponseWriter, r *http.Request, status int, what string) {
	switch status {
	case http.StatusForbidden:
		writeError(w, r, status, flexhrm.CodeForbidden, "The API user may not access this company.", nil)
	default:
		writeError(w, r, http.StatusNotFound, flexhrm.CodeNotFound, what+" not found.", nil)
	}
}

// codeFor is the error code of a status the knobs inject.
func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return flexhrm.CodeValidationFailed
	case http.StatusUnauthorized:
		return flexhrm.CodeUnauthorized
	case http.StatusForbidden:
		return flexhrm.CodeForbidden
	case http.StatusNotFound:
		return flexhrm.CodeNotFound
	case http.StatusMethodNotAllowed:
		return flexhrm.CodeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return flexhrm.CodePayloadTooLarge
	case http.StatusUnsupportedMediaType:
		return flexhrm.CodeUnsupportedMediaType
	case http.StatusTooManyRequests:
		return flexhrm.CodeRateLimited
	case http.StatusInternalServerError:
		return flexhrm.CodeInternalError
	case http.StatusBadGateway:
		return flexhrm.CodeBadGateway
	case http.StatusServiceUnavailable:
		return flexhrm.CodeServiceUnavailable
	case http.StatusGatewayTimeout:
		return flexhrm.CodeGatewayTimeout
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// authenticate applies the model's auth: the Instance must be the customer
// number (else 401 UnknownInstance, see gaps.go), then Basic credentials must
// match (else 401 Unauthorized).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	revoked := s.knobs.revoked
	s.mu.Unlock()
	want := s.seed.Credentials
	unauthorized := func(code, msg string) bool {
		w.Header().Set("WWW-Authenticate", `Basic realm="Flex HRM"`)
		writeError(w, r, http.StatusUnauthorized, code, msg, nil)
		return false
	}
	if !equal(r.Header.Get("Instance"), want.CustomerNumber) {
		return unauthorized(flexhrm.CodeUnknownInstance, "Unknown instance.")
	}
	scheme, encoded, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return unauthorized(flexhrm.CodeUnauthorized, "Authentication is required.")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return unauthorized(flexhrm.CodeUnauthorized, "Invalid credentials.")
	}
	parts := strings.SplitN(string(raw), ":", 3)
	if len(parts) != 3 || !equal(parts[0], want.CustomerNumber) || !equal(parts[1], want.Username) || !equal(parts[2], want.Password) {
		return unauthorized(flexhrm.CodeUnauthorized, "Invalid credentials.")
	}
	if revoked {
		return unauthorized(flexhrm.CodeUnauthorized, "Invalid credentials.")
	}
	return true
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// query checks the query holds only the allowed parameters, each once.
type query struct {
	values url.Values
	errs   fieldErrors
}

func parseQuery(r *http.Request, allowed ...string) *query {
	q := &query{errs: fieldErrors{}}
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		q.errs.add("query", "The query string is malformed.")
		return q
	}
	q.values = values
	for k, v := range values {
		switch {
		case !slices.Contains(allowed, k):
			q.errs.add(k, "Unknown query parameter.")
		case len(v) > 1:
			q.errs.add(k, "Give the parameter once.")
		}
	}
	return q
}

func (q *query) get(name string) string { return q.values.Get(name) }

func (q *query) uuid(name string, required bool) string {
	v := q.values.Get(name)
	switch {
	case v == "" && required:
		q.errs.add(name, "The parameter is required.")
	case v != "" && !isUUID(v):
		q.errs.add(name, "Not a valid id.")
	}
	return v
}

type paging struct{ index, size int }

func (q *query) paging() paging {
	p := paging{index: 0, size: flexhrm.DefaultPageSize}
	if v := q.values.Get("pageIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			q.errs.add("pageIndex", "Must be an integer ≥ 0.")
		} else {
			p.index = n
		}
	}
	if v := q.values.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > flexhrm.MaxPageSize {
			q.errs.add("pageSize", "Must be an integer from 1 to 100.")
		} else {
			p.size = n
		}
	}
	return p
}

// envelope is the model's list answer.
type envelope[T any] struct {
	PageIndex  int `json:"pageIndex"`
	PageSize   int `json:"pageSize"`
	TotalCount int `json:"totalCount"`
	Items      []T `json:"items"`
}

func pageOf[T any](items []T, p paging) envelope[T] {
	out := envelope[T]{PageIndex: p.index, PageSize: p.size, TotalCount: len(items), Items: []T{}}
	start := p.index * p.size
	if p.index > len(items) || start >= len(items) {
		return out
	}
	end := min(start+p.size, len(items))
	out.Items = append(out.Items, items[start:end]...)
	return out
}

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

// decodeBody reads a JSON body strictly: application/json, at most 1 MiB,
// one object, no unknown properties. false means an error was answered.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, r, http.StatusUnsupportedMediaType, flexhrm.CodeUnsupportedMediaType, "The body must be application/json.", nil)
		return false
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		validationFailed(w, r, fieldErrors{"body": {"The body could not be read."}})
		return false
	}
	if len(data) > maxJSONBody {
		writeError(w, r, http.StatusRequestEntityTooLarge, flexhrm.CodePayloadTooLarge, "The body is too large.", nil)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		validationFailed(w, r, bodyProblem(err))
		return false
	}
	if dec.More() {
		validationFailed(w, r, fieldErrors{"body": {"Only one JSON object is allowed."}})
		return false
	}
	return true
}

func bodyProblem(err error) fieldErrors {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fieldErrors{typ.Field: {"Wrong type."}}
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		field, _ := strconv.Unquote(strings.TrimPrefix(msg, unknown))
		return fieldErrors{field: {"Unknown property."}}
	}
	return fieldErrors{"body": {"Malformed JSON."}}
}

// strictDate reads a request date: "YYYY-MM-DD" or "YYYY-MM-DDT00:00:00".
func strictDate(s string) (flexhrm.Date, bool) {
	if len(s) != 10 && (len(s) != 19 || s[10:] != "T00:00:00") {
		return flexhrm.Date{}, false
	}
	d, err := flexhrm.ParseDate(s)
	return d, err == nil
}
