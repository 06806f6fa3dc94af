package domain

import (
	"errors"
	"fmt"
	"time"
)

// System names an upstream system in reasons and errors.
type System string

// Upstream systems contract-sync talks to.
const (
	SystemOneflow           System = "Oneflow"
	SystemFlexHRM           System = "Flex HRM"
	SystemEmployeeDirectory System = "employee-directory"
	SystemDocumentArchive   System = "document-archive"
	SystemNATS              System = "NATS"
)

// ErrorKind classifies an upstream failure for the retry policy.
type ErrorKind int

// Kinds of upstream failure.
const (
	// KindTransient is worth retrying: 5xx, 429, timeouts, network.
	KindTransient ErrorKind = iota + 1
	// KindCredentials means the upstream rejected flexflow's credentials:
	// retrying cannot help until an operator fixes them.
	KindCredentials
	// KindNotFound means the thing asked for does not exist.
	KindNotFound
	// KindInvalid means the upstream refused the request as invalid.
	KindInvalid
)

// UpstreamError is an upstream failure translated once, in an adapter.
// Reason is free of personal data and names the system.
type UpstreamError struct {
	System System
	Kind   ErrorKind
	Op     string
	Reason string
	Err    error
	// RateLimited marks a transient refusal for load (429): the whole
	// system is throttled, so waiting in line is backpressure, not a
	// blocked partition.
	RateLimited bool
	// RetryAfter is the wait the upstream asked for, 0 when it named none.
	RetryAfter time.Duration
}

// Error is the reason, followed by the cause (which adapters keep free of
// personal data).
func (e *UpstreamError) Error() string {
	msg := e.Reason
	if msg == "" {
		msg = fmt.Sprintf("%s %s failed", e.System, e.Op)
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *UpstreamError) Unwrap() error { return e.Err }

// Transient reports whether err is worth retrying. Unclassified errors count
// as transient: being wrong about that costs retries, being wrong the other
// way loses work.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Kind == KindTransient
	}
	return true
}

// Reason returns the personal-data-free reason of an error for the sync log
// and ListFailures.
func Reason(err error) string {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		if ue.Reason != "" {
			return ue.Reason
		}
		return fmt.Sprintf("%s %s failed", ue.System, ue.Op)
	}
	return "internal error"
}

// CredentialsReason is the reason for a rejected credential of a system.
func CredentialsReason(s System) string {
	switch s {
	case SystemFlexHRM:
		return "Flex HRM rejected flexflow's credentials (check FLEXHRM_CREDENTIALS)"
	case SystemOneflow:
		return "Oneflow rejected flexflow's API token or user email (check ONEFLOW_API_TOKEN and ONEFLOW_USER_EMAIL)"
	case SystemEmployeeDirectory:
		return "employee-directory rejected contract-sync's token (check EMPLOYEE_DIRECTORY_TOKEN)"
	case SystemDocumentArchive:
		return "document-archive rejected contract-sync's operator token (check OPERATOR_TOKEN)"
	}
	return string(s) + " rejected flexflow's credentials"
}

// RetryHint returns whether err is a rate-limit refusal and the wait the
// upstream asked for.
func RetryHint(err error) (rateLimited bool, retryAfter time.Duration) {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.RateLimited, ue.RetryAfter
	}
	return false, 0
}
