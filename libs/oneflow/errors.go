package oneflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Sentinel errors let callers decide between "retry later" and "fail now"
// without parsing status codes; every *APIError matches exactly one of them
// with errors.Is.
var (
	// ErrNotFound: the contract, party, template or user does not exist (404).
	ErrNotFound = errors.New("oneflow: not found")
	// ErrUnauthorized: the API token or user email was refused (401).
	ErrUnauthorized = errors.New("oneflow: credentials refused")
	// ErrForbidden: the user may not do this (403).
	ErrForbidden = errors.New("oneflow: forbidden")
	// ErrValidation: Oneflow refused the request's content (400 or 422); see
	// APIError.ParameterProblems.
	ErrValidation = errors.New("oneflow: request refused as invalid")
	// ErrConflict: the request does not fit the contract's current state (409).
	ErrConflict = errors.New("oneflow: conflict with the current state")
	// ErrRateLimited: Oneflow kept answering 429 for longer than the client's
	// rate-limit budget.
	ErrRateLimited = errors.New("oneflow: rate limited")
	// ErrUnavailable: Oneflow failed (5xx) or could not be reached; worth
	// retrying later.
	ErrUnavailable = errors.New("oneflow: unavailable")
	// ErrUnexpected: any other status Oneflow should not answer.
	ErrUnexpected = errors.New("oneflow: unexpected answer")
)

// APIError is an error answer from Oneflow, decoded from its error body. Its
// Error text carries the call, status, error code, request id and the names
// (never the values) of the parameters Oneflow complained about; Detail is kept
// out of it because Oneflow may echo personal data there.
type APIError struct {
	// Op names the call, e.g. "GET /contracts/{id}".
	Op         string
	StatusCode int
	ErrorCode  int64
	Title      string
	// Detail is Oneflow's explanation. It may quote request values (emails,
	// names): never log or return it verbatim.
	Detail string
	Type   string
	// RequestID identifies the request at Oneflow; log it, quote it to their
	// support.
	RequestID string
	// ParameterProblems maps a parameter name to Oneflow's complaint about it
	// (which may quote the value).
	ParameterProblems map[string]json.RawMessage
}

// Error describes the failure without personal data.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oneflow: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.ErrorCode != 0 {
		fmt.Fprintf(&b, " (error_code %d)", e.ErrorCode)
	}
	if names := e.ProblemParameters(); len(names) > 0 {
		fmt.Fprintf(&b, ", problems with %s", strings.Join(names, ", "))
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, ", request_id %s", e.RequestID)
	}
	return b.String()
}

// ProblemParameters returns the sorted names of the parameters Oneflow
// refused.
func (e *APIError) ProblemParameters() []string {
	names := make([]string, 0, len(e.ParameterProblems))
	for name := range e.ParameterProblems {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Is matches the sentinel for the error's status.
func (e *APIError) Is(target error) bool {
	return target == sentinelFor(e.StatusCode)
}

func sentinelFor(status int) error {
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return ErrValidation
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound || status == http.StatusGone:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500 || status == http.StatusRequestTimeout:
		return ErrUnavailable
	default:
		return ErrUnexpected
	}
}

// IsTransient reports whether err is worth retrying later: rate limiting,
// Oneflow being unavailable, or a network failure. Credentials, validation,
// not-found and conflict errors are permanent until someone changes
// something.
func IsTransient(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable)
}

// errorBody is Oneflow's error JSON.
type errorBody struct {
	ErrorCode         int64                      `json:"error_code"`
	Detail            string                     `json:"detail"`
	ParameterProblems map[string]json.RawMessage `json:"parameter_problems"`
	RequestID         string                     `json:"request_id"`
	Status            int                        `json:"status"`
	Title             string                     `json:"title"`
	Type              string                     `json:"type"`
}

// decodeAPIError builds the APIError for a non-2xx answer. A body that is not
// Oneflow's JSON (a proxy's HTML page, say) still yields an APIError with the
// status; its content is never copied into the error.
func decodeAPIError(op string, status int, header http.Header, body []byte) *APIError {
	apiErr := &APIError{Op: op, StatusCode: status}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		apiErr.ErrorCode = eb.ErrorCode
		apiErr.Title = eb.Title
		apiErr.Detail = eb.Detail
		apiErr.Type = eb.Type
		apiErr.RequestID = eb.RequestID
		if len(eb.ParameterProblems) > 0 {
			apiErr.ParameterProblems = eb.ParameterProblems
		}
	}
	if apiErr.RequestID == "" && header != nil {
		apiErr.RequestID = header.Get(requestIDHeader)
	}
	if apiErr.Title == "" {
		apiErr.Title = http.StatusText(status)
	}
	return apiErr
}

// transportError wraps a failure to reach Oneflow (or to read its answer) so
// that it matches ErrUnavailable and never quotes the request URL.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("oneflow: %s: %v", e.op, e.err)
}

func (e *transportError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// decodeError is returned when a 2xx answer cannot be decoded: Oneflow
// answered, but not in the shape the client expects.
type decodeError struct {
	op  string
	err error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("oneflow: %s: decoding the answer: %s", e.op, describeJSONError(e.err))
}

func (e *decodeError) Unwrap() []error { return []error{ErrUnexpected, e.err} }

// describeJSONError says what is wrong with a JSON document without quoting
// any of its values.
func describeJSONError(err error) string {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(document)"
		}
		// Value may be "number 1234": keep only the kind, never the value.
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		return fmt.Sprintf("attribute %s is a JSON %s, want %s", field, kind, typeErr.Type)
	case errors.Is(err, errEmptyBody):
		return "empty body"
	default:
		return "malformed JSON"
	}
}

var errEmptyBody = errors.New("empty body")
