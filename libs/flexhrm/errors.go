package flexhrm

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Every failure that has one of these meanings wraps it, so
// callers decide with errors.Is and never look at status codes.
var (
	// ErrNotFound: the object (or an employee with that employment number) does not exist.
	ErrNotFound = errors.New("flexhrm: not found")
	// ErrAmbiguousEmployee: an employment number matches employees of several
	// companies; errors.As gives *AmbiguousEmployeeError with the companies.
	ErrAmbiguousEmployee = errors.New("flexhrm: employment number is ambiguous")
	// ErrNoManager: the employee has no immediate manager (a warning for callers).
	ErrNoManager = errors.New("flexhrm: the employee has no immediate manager")
	// ErrOverlappingDates: Flex HRM refused a period overlapping another of the employee's.
	ErrOverlappingDates = errors.New("flexhrm: employment periods overlap")
	// ErrNoOneflowCategory: the company has no "Oneflow…" category used in the employment register.
	ErrNoOneflowCategory = errors.New("flexhrm: no Oneflow document category")
	// ErrCategoryNotInEmploymentRegister: an upload named a category not used in the employment register.
	ErrCategoryNotInEmploymentRegister = errors.New("flexhrm: document category is not used in the employment register")
	// ErrNameTooLong: a document title is over MaxDocumentTitleLength characters.
	ErrNameTooLong = errors.New("flexhrm: document name too long")
	// ErrUnauthorized: Flex HRM rejected flexflow's credentials (401).
	ErrUnauthorized = errors.New("flexhrm: Flex HRM rejected flexflow's credentials")
	// ErrUnknownCustomerNumber: the customer number (Instance) is unknown; it also
	// wraps ErrUnauthorized.
	ErrUnknownCustomerNumber = errors.New("flexhrm: Flex HRM does not know the customer number")
	// ErrForbidden: the API user may not access that company (403).
	ErrForbidden = errors.New("flexhrm: the API user may not access this company")
	// ErrRateLimited: 429, still after the retries a read gets.
	ErrRateLimited = errors.New("flexhrm: rate limited by Flex HRM")
	// ErrUnavailable: 5xx or a network failure, still after the retries a read gets.
	ErrUnavailable = errors.New("flexhrm: Flex HRM unavailable")
	// ErrUnsupportedMediaType: the upload was not accepted as application/pdf (415).
	ErrUnsupportedMediaType = errors.New("flexhrm: unsupported media type")
	// ErrPayloadTooLarge: the upload is over MaxUploadBytes (413).
	ErrPayloadTooLarge = errors.New("flexhrm: document too large")
	// ErrValidation: Flex HRM refused the values (400); APIError.Fields names the fields.
	ErrValidation = errors.New("flexhrm: validation failed")
	// ErrBadAPIRoot: what answers at the API root is not Flex HRM's API.
	ErrBadAPIRoot = errors.New("flexhrm: the API root does not lead to Flex HRM's API")
	// ErrUnexpectedResponse: a success answer whose body is not the expected JSON.
	ErrUnexpectedResponse = errors.New("flexhrm: unexpected response")
)

// APIError is any answer of Flex HRM that is not a success. It wraps the
// sentinel that applies (errors.Is(err, ErrNotFound), ...). Message is
// scrubbed of personal data and shortened; Fields holds only field names.
type APIError struct {
	// Op names the client operation, e.g. "get employee"; never a URL.
	Op      string
	Status  int
	Code    string
	Message string
	// Fields are the names of the invalid fields of a 400, sorted.
	Fields []string
	// RetryAfter is the server's Retry-After of a 429 or 503, zero if none.
	RetryAfter time.Duration
	// Attempts is how many times a read was tried (0 or 1: once).
	Attempts int

	kinds []error
}

// Error reads like "flexhrm: get employee: 404 NotFound: Employee not found".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("flexhrm: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		b.WriteString(" (fields: ")
		b.WriteString(strings.Join(e.Fields, ", "))
		b.WriteString(")")
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		b.WriteString(" (after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts)")
	}
	return b.String()
}

// Unwrap exposes the sentinels that apply.
func (e *APIError) Unwrap() []error { return e.kinds }

// TransportError is a failure to get any answer from Flex HRM (DNS, refused
// connection, TLS, timeout). It wraps ErrUnavailable and the cause, with the
// request URL stripped from the cause (its query may hold personal data).
type TransportError struct {
	Op  string
	Err error
	// Attempts is how many times a read was tried (0 or 1: once).
	Attempts int
}

// Error names the operation and the network cause.
func (e *TransportError) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("flexhrm: %s: Flex HRM unreachable: %v (after %d attempts)", e.Op, e.Err, e.Attempts)
	}
	return fmt.Sprintf("flexhrm: %s: Flex HRM unreachable: %v", e.Op, e.Err)
}

// Unwrap exposes ErrUnavailable and the cause.
func (e *TransportError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// inputError is a call refused before any request: the caller's values
// cannot form a valid request. It wraps ErrValidation.
type inputError struct {
	op, msg string
}

func (e *inputError) Error() string { return "flexhrm: " + e.op + ": " + e.msg }

func (e *inputError) Unwrap() error { return ErrValidation }

func invalidInput(op string, err error) error { return &inputError{op: op, msg: err.Error()} }

// CompanyRef names a company without personal data, for messages.
type CompanyRef struct {
	ID            string
	CompanyNumber string
	Name          string
}

func (c CompanyRef) String() string {
	switch {
	case c.Name != "" && c.CompanyNumber != "":
		return fmt.Sprintf("%q (company number %s)", c.Name, c.CompanyNumber)
	case c.Name != "":
		return strconv.Quote(c.Name)
	default:
		return "company " + c.ID
	}
}

// AmbiguousEmployeeError says an employment number matched employees in
// several companies (numbers are unique per company only). It names the
// companies so an HR admin can tell which one is meant.
type AmbiguousEmployeeError struct {
	EmploymentNumber string
	Companies        []CompanyRef
}

// Error names the companies, not the employees.
func (e *AmbiguousEmployeeError) Error() string {
	names := make([]string, len(e.Companies))
	for i, c := range e.Companies {
		names[i] = c.String()
	}
	return fmt.Sprintf("flexhrm: employment number %s matches employees in %d companies: %s",
		strconv.Quote(e.EmploymentNumber), len(e.Companies), strings.Join(names, ", "))
}

// Is makes errors.Is(err, ErrAmbiguousEmployee) true.
func (e *AmbiguousEmployeeError) Is(target error) bool { return target == ErrAmbiguousEmployee }

// errorBody is the tolerant reading of an error answer.
type errorBody struct {
	code     string
	message  string
	messages []string // every message text found, for the overlap rule
	fields   []string
}

// classify builds the APIError for a non-success answer.
func classify(op string, status int, header http.Header, body []byte) *APIError {
	eb := decodeErrorBody(body)
	e := &APIError{
		Op:      op,
		Status:  status,
		Code:    eb.code,
		Message: scrub(eb.message),
		Fields:  eb.fields,
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"))
	}
	code := strings.ToLower(eb.code)
	switch {
	case isOverlap(status, code, eb.messages):
		e.kinds = append(e.kinds, ErrOverlappingDates)
	case code == strings.ToLower(CodeDocumentNameTooLong):
		e.kinds = append(e.kinds, ErrNameTooLong)
	case code == strings.ToLower(CodeCategoryNotUsedInEmploymentRegister):
		e.kinds = append(e.kinds, ErrCategoryNotInEmploymentRegister)
	case status == http.StatusBadRequest:
		e.kinds = append(e.kinds, ErrValidation)
	case status == http.StatusUnauthorized:
		if code == strings.ToLower(CodeUnknownInstance) || mentionsInstance(eb.messages) {
			e.kinds = append(e.kinds, ErrUnknownCustomerNumber)
		}
		e.kinds = append(e.kinds, ErrUnauthorized)
	case status == http.StatusForbidden:
		e.kinds = append(e.kinds, ErrForbidden)
	case status == http.StatusNotFound:
		e.kinds = append(e.kinds, ErrNotFound)
	case status == http.StatusRequestEntityTooLarge:
		e.kinds = append(e.kinds, ErrPayloadTooLarge)
	case status == http.StatusUnsupportedMediaType:
		e.kinds = append(e.kinds, ErrUnsupportedMediaType)
	case status == http.StatusTooManyRequests:
		e.kinds = append(e.kinds, ErrRateLimited)
	case status >= 500:
		e.kinds = append(e.kinds, ErrUnavailable)
	}
	return e
}

// isOverlap is the spec's rule: the code, or 400/409 with "overlap"/"överlapp".
func isOverlap(status int, lowerCode string, messages []string) bool {
	if lowerCode == strings.ToLower(CodeOverlappingDates) {
		return true
	}
	if status != http.StatusBadRequest && status != http.StatusConflict {
		return false
	}
	for _, m := range messages {
		l := strings.ToLower(m)
		if strings.Contains(l, "overlap") || strings.Contains(l, "överlapp") {
			return true
		}
	}
	return false
}

func mentionsInstance(messages []string) bool {
	for _, m := range messages {
		if strings.Contains(strings.ToLower(m), "instance") {
			return true
		}
	}
	return false
}

// parseRetryAfter reads delay-seconds; anything else (HTTP dates included,
// which the model does not use) is ignored.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 24*60*60 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// personalData matches what must not survive in a message: a UUID (kept, it
// is an id), an e-mail address, or a run of digits long enough to be a
// national ID or a phone number.
var personalData = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[^\s"'<>(),;:]*@[^\s"'<>(),;:]*|\+?[0-9][0-9 \-+]{4,}[0-9]`)

var uuidOnly = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// scrub removes personal data from a server message and bounds its length.
func scrub(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	// Cut first, so a cut cannot turn an id into something that looks personal.
	if utf8.RuneCountInString(s) > maxMessageRunes {
		s = string([]rune(s)[:maxMessageRunes]) + "…"
	}
	s = personalData.ReplaceAllStringFunc(s, func(m string) string {
		if uuidOnly.MatchString(m) {
			return m
		}
		if digitsIn(m) < 6 && !strings.Contains(m, "@") {
			return m
		}
		return redacted
	})
	return strings.TrimSpace(s)
}

func digitsIn(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func sortedUnique(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}
