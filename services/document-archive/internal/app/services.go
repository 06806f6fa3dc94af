// Package app holds document-archive's use cases: archive a contract's PDF
// for a status exactly once, and list what was archived. It orchestrates the
// ports it declares here (Oneflow, Flex HRM, the archive records, the sync
// log, the failures list, locks); adapters implement them.
package app

import (
	"context"
	"io"
	"time"

	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// Contract is what document-archive reads of a Oneflow contract.
type Contract struct {
	ID         int64
	Name       string
	State      string
	TemplateID int64
	// EmployeeNumber is the value of the employee-number data field; it is
	// only needed when a replay names a job no event ever described.
	EmployeeNumber string
}

// PDF is an open download of a contract's file 1. Size is -1 when Oneflow
// did not say how long it is.
type PDF struct {
	Body io.ReadCloser
	Size int64
}

// Oneflow is the part of Oneflow document-archive reads.
type Oneflow interface {
	Contract(ctx context.Context, contractID int64) (Contract, error)
	TemplateName(ctx context.Context, templateID int64) (string, error)
	// DownloadPDF opens file 1 of the contract as a stream; the caller
	// closes Body.
	DownloadPDF(ctx context.Context, contractID int64) (PDF, error)
}

// Employee is a Flex HRM employee as document-archive needs them.
type Employee struct {
	ID        string
	CompanyID string
	Name      string
}

// Category is a Flex HRM document category.
type Category struct {
	ID   string
	Name string
}

// Upload names where an uploaded document goes and what it is called.
type Upload struct {
	CompanyID  string
	EmployeeID string
	CategoryID string
	Title      string
	// Size is the PDF's exact length when Oneflow announced it, else -1.
	Size int64
}

// FlexHRM is the part of Flex HRM document-archive reads and writes.
type FlexHRM interface {
	Employee(ctx context.Context, employeeID string) (Employee, error)
	// FindEmployee finds the one employee with this employment number
	// across the companies flexflow sees.
	FindEmployee(ctx context.Context, employeeNumber string) (Employee, error)
	// OneflowCategory chooses the company's Oneflow document category; a
	// company without one answers a *PermanentError naming the company.
	OneflowCategory(ctx context.Context, companyID string) (Category, error)
	Documents(ctx context.Context, companyID, employeeID, categoryID string) ([]domain.FlexDocument, error)
	// UploadDocument streams body as the document's PDF. It is a write and
	// must not be retried blindly.
	UploadDocument(ctx context.Context, u Upload, body io.Reader) (domain.FlexDocument, error)
}

// Records is document-archive's memory of what it archived, and of which
// employee each job is for.
type Records interface {
	Get(ctx context.Context, key domain.JobKey) (domain.Record, bool, error)
	// ClaimedBy tells which job recorded a Flex HRM document, if any.
	ClaimedBy(ctx context.Context, flexDocumentID string) (domain.JobKey, bool, error)
	// Save records an upload: first the claim on the Flex document, then
	// the record, then the employee index, so every crash point is
	// recoverable.
	Save(ctx context.Context, rec domain.Record) error
	ByContract(ctx context.Context, contractID int64) ([]domain.Record, error)
	ByEmployee(ctx context.Context, employeeNumber string) ([]domain.Record, error)
	// SaveTarget remembers which employee a job is for, so a replay that
	// only names the job finds them again.
	SaveTarget(ctx context.Context, key domain.JobKey, t domain.Target) error
	Target(ctx context.Context, key domain.JobKey) (domain.Target, bool, error)
}

// Outcome is how a sync-log step ended.
type Outcome int

// The outcomes document-archive writes to a contract's sync log.
const (
	OutcomeDone Outcome = iota + 1
	OutcomeSkipped
	OutcomeWarning
	OutcomeFailed
)

// LogEntry is one step in a contract's sync log. Reason is read by HR
// admins and SREs and never holds personal data.
type LogEntry struct {
	ContractID int64
	Step       string
	Outcome    Outcome
	Reason     string
	EventType  string
}

// SyncLog appends to a contract's sync log; the adapter adds the time, the
// trace id from ctx, the service and the flow.
type SyncLog interface {
	Append(ctx context.Context, e LogEntry) error
}

// Failure is a contract whose archive failed for good (until a replay).
type Failure struct {
	Key    domain.JobKey
	Reason string
	Time   time.Time
}

// Failures is the dead-letter list SREs read and replay from.
type Failures interface {
	// Fail lists the contract as failed because of this job.
	Fail(ctx context.Context, f Failure) error
	// Clear forgets this job's failure; the contract leaves the list when
	// none of its archive jobs is failed any more.
	Clear(ctx context.Context, key domain.JobKey) error
}

// Lease is mutual exclusion for one job across processes.
type Lease interface {
	// Acquire takes the job's lease or answers ErrBusy; release gives it
	// back.
	Acquire(ctx context.Context, key domain.JobKey) (release func(), err error)
}
