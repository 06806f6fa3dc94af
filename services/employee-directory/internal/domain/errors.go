package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the employee directory. Adapters translate Flex HRM's failures
// into these once; the gRPC port maps each to one status code. Their messages
// are safe to return to callers: no personal data, no credentials.
var (
	// ErrNotFound: Flex HRM has no such object; more specific errors wrap it.
	ErrNotFound = errors.New("not found in Flex HRM")
	// ErrEmployeeNotFound: no employee has the employment number (in the
	// companies the API user sees, or in the company asked for).
	ErrEmployeeNotFound = fmt.Errorf("employee %w", ErrNotFound)
	// ErrCredentialsRejected: Flex HRM answered 401 to flexflow's API user.
	ErrCredentialsRejected = errors.New("Flex HRM rejected flexflow's credentials (FLEXHRM_CREDENTIALS)")
	// ErrCompanyForbidden: Flex HRM answered 403, the API user may not see
	// the company.
	ErrCompanyForbidden = errors.New("Flex HRM does not let flexflow's API user access this company")
	// ErrRateLimited: Flex HRM kept answering 429 after the client's retries.
	ErrRateLimited = errors.New("Flex HRM is rate limiting flexflow; try again later")
	// ErrUpstreamUnavailable: Flex HRM did not answer usefully (5xx, network,
	// timeouts) within the client's retry budget.
	ErrUpstreamUnavailable = errors.New("Flex HRM is unavailable")
	// ErrOverlappingDates: Flex HRM refused a period that overlaps another.
	ErrOverlappingDates = errors.New("Flex HRM refused overlapping employment periods")
)

// AmbiguousEmployeeError: the employment number exists in several companies
// and the caller did not say which one.
type AmbiguousEmployeeError struct {
	EmployeeNumber string
	// Companies names each company holding the number ("Name (id)" or the id).
	Companies []string
	// CompanyIDs are the same companies' ids, for callers that pick one.
	CompanyIDs []string
}

// Error names the companies so the caller can pass one as company_id.
func (e *AmbiguousEmployeeError) Error() string {
	return fmt.Sprintf("employee number %s exists in several Flex HRM companies (%s): pass company_id",
		e.EmployeeNumber, strings.Join(e.Companies, ", "))
}

// InvalidFieldError: a caller's value breaks a rule; Field is the request
// field's name (e.g. "national_id", "update_mask").
type InvalidFieldError struct {
	Field  string
	Reason string
}

// Error is "<field>: <reason>". Reason never echoes the rejected value.
func (e *InvalidFieldError) Error() string { return e.Field + ": " + e.Reason }

// UpstreamRejectedError: Flex HRM refused a write as invalid (400) for a
// reason flexflow did not check first. Fields are Flex HRM's property names.
type UpstreamRejectedError struct {
	Code   string
	Fields []string
}

// Error names the code and the fields, never their values.
func (e *UpstreamRejectedError) Error() string {
	msg := "Flex HRM refused the write"
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if len(e.Fields) > 0 {
		msg += ": invalid " + strings.Join(e.Fields, ", ")
	}
	return msg
}
