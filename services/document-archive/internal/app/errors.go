package app

import (
	"errors"
	"fmt"
	"time"
)

// PermanentError is a failure that no retry can fix (a missing category, a
// file that is not a PDF, rejected credentials, a contract that is gone).
// Reason is safe to show to callers and to write to the sync log.
type PermanentError struct {
	Reason string
	Err    error
}

// Permanent wraps err as a failure that must not be retried.
func Permanent(reason string, err error) error {
	return &PermanentError{Reason: reason, Err: err}
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err must not be retried.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// reasonOf is the text of err for the sync log: the permanent reason when
// there is one, the error otherwise (adapters scrub personal data).
func reasonOf(err error) string {
	var p *PermanentError
	if errors.As(err, &p) {
		return p.Reason
	}
	return err.Error()
}

// ErrBusy says another worker holds the job right now; try again shortly.
var ErrBusy = errors.New("another worker is archiving this document right now")

// ErrHalted is returned when the AfterUpload test hook stopped the job
// right after the upload, as a crash would.
var ErrHalted = errors.New("archive halted after upload by a test hook")

// RetryError says a transient failure was recorded and the job should be
// tried again after Delay.
type RetryError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("retrying in %s: %v", e.Delay, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }
