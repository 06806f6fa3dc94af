// Package app holds contract-sync's commands and queries: webhook ingest,
// the worker that runs the fetch, publish, sign and lifecycle flows, replay,
// and the sync-state queries. It orchestrates the pure rules of domain
// through the small interfaces declared here, which adapters implement.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
)

// Contract is what the flows read from Oneflow.
type Contract struct {
	ID             int64
	State          string
	Name           string
	TemplateID     int64
	TemplateTypeID int64
	// DataFields maps custom_id to value for the fields that have one.
	DataFields map[string]string
	Parties    []Party
	// DeliveryChannel and TwoStepMethod are the preferred options.
	DeliveryChannel string
	TwoStepMethod   string
}

// Party is one side of a contract.
type Party struct {
	ID           int64
	Type         string
	MyParty      bool
	Participants []Participant
}

// Participant is a person on a party.
type Participant struct {
	ID        int64
	Name      string
	Email     string
	Phone     string
	Signatory bool
}

// Template is a Oneflow template with its type.
type Template struct {
	ID       int64
	Name     string
	TypeID   int64
	TypeName string
}

// NewParticipant is a participant to add.
type NewParticipant struct {
	Name            string
	Email           string
	Phone           string
	Signatory       bool
	DeliveryChannel string
	TwoStepMethod   string
}

// User is an active Oneflow user.
type User struct {
	ID    int64
	Email string
}

// Oneflow is what the flows need from Oneflow. Errors are
// *domain.UpstreamError.
type Oneflow interface {
	GetContract(ctx context.Context, contractID int64) (Contract, error)
	GetTemplate(ctx context.Context, templateID int64) (Template, error)
	UpdateDataFields(ctx context.Context, contractID int64, changes []domain.FieldChange) error
	RenameContract(ctx context.Context, contractID int64, name string) error
	// AddCounterparty adds an individual counterparty party holding p.
	AddCounterparty(ctx context.Context, contractID int64, p NewParticipant) (domain.ParticipantRef, error)
	// AddParticipant adds p to an existing party.
	AddParticipant(ctx context.Context, contractID, partyID int64, p NewParticipant) (domain.ParticipantRef, error)
	RemoveParticipant(ctx context.Context, contractID int64, ref domain.ParticipantRef) error
	// FindActiveUserByEmail finds an active user, matching the email
	// case-insensitively; found is false when there is none.
	FindActiveUserByEmail(ctx context.Context, email string) (u User, found bool, err error)
}

// ErrEmployeeNotFound: no employee has the number.
var ErrEmployeeNotFound = errors.New("employee not found")

// AmbiguousEmployeeError: the number exists in several companies.
type AmbiguousEmployeeError struct {
	// Companies names them (company names are not personal data).
	Companies []string
}

// Error counts the companies; their names are in Companies.
func (e *AmbiguousEmployeeError) Error() string {
	return fmt.Sprintf("employee number exists in %d companies", len(e.Companies))
}

// PeriodOutcome is what UpsertEmploymentPeriod did.
type PeriodOutcome int

// Period outcomes.
const (
	PeriodCreated PeriodOutcome = iota + 1
	PeriodUpdated
	PeriodUnchanged
	PeriodOverlapSkipped
)

// PeriodResult reports an UpsertEmploymentPeriod.
type PeriodResult struct {
	Outcome  PeriodOutcome
	Warnings []string
}

// Directory is employee-directory as the flows use it.
type Directory interface {
	// GetEmployee returns ErrEmployeeNotFound or *AmbiguousEmployeeError
	// when the number does not name exactly one employee.
	GetEmployee(ctx context.Context, employeeNumber, companyID string) (domain.Employee, error)
	UpdateEmployee(ctx context.Context, employeeNumber, companyID string, mask []string, values domain.Employee) (changed []string, err error)
	UpsertEmploymentPeriod(ctx context.Context, employeeNumber, companyID string, plan domain.EmploymentPeriodPlan) (PeriodResult, error)
}

// Archive is document-archive as replay uses it.
type Archive interface {
	// ArchiveContractDocument archives the PDF for status ("pending" or
	// "signed") and generation unless it is archived already.
	ArchiveContractDocument(ctx context.Context, contractID int64, status string, generation int32) (uploaded bool, err error)
}

// StateStore keeps domain.State per contract with compare-and-set.
type StateStore interface {
	Get(ctx context.Context, contractID int64) (domain.State, error)
	// Update reads the state (a zero State for a new contract), applies fn
	// and writes it back only if nobody wrote in between, retrying fn on a
	// conflict. It returns the state written.
	Update(ctx context.Context, contractID int64, fn func(*domain.State) error) (domain.State, error)
}

// CallbackStore remembers processed callback ids.
type CallbackStore interface {
	Seen(ctx context.Context, callbackID string) (bool, error)
	Remember(ctx context.Context, callbackID string) error
}

// SyncLog appends to and reads contracts' sync logs.
type SyncLog interface {
	Append(ctx context.Context, entry *eventsv1.SyncLogEntry) error
	Read(ctx context.Context, contractID int64) ([]*eventsv1.SyncLogEntry, error)
}

// EventPublisher emits events for document-archive, deduplicated by msgID.
type EventPublisher interface {
	PublishContractPublished(ctx context.Context, msgID string, ev *eventsv1.ContractPublished) error
	PublishContractSigned(ctx context.Context, msgID string, ev *eventsv1.ContractSigned) error
}

// FailureStore keeps failed contracts for ListFailures.
type FailureStore interface {
	Put(ctx context.Context, f *contractsyncv1.ContractFailure) error
	Delete(ctx context.Context, contractID int64) error
	List(ctx context.Context) ([]*contractsyncv1.ContractFailure, error)
}

// WebhookQueue is the durable webhook stream.
type WebhookQueue interface {
	// Enqueue stores a verified notification (signature cleared) with
	// Nats-Msg-Id = callback id; duplicate is true for a resend the stream
	// already holds.
	Enqueue(ctx context.Context, req *contractsyncv1.ReceiveOneflowWebhookRequest) (duplicate bool, err error)
	// EnqueueReplay queues an operator replay on the contract's subject.
	EnqueueReplay(ctx context.Context, contractID int64) error
	// EnqueueRetry queues a scheduled retry of parked work, deduplicated per
	// key: the same key (replicas scheduling the same attempt) is queued
	// once, so a key must name the parking episode, not only the attempt
	// number, which starts at 1 again each time a contract is parked.
	EnqueueRetry(ctx context.Context, contractID int64, attempt int, key string) error
}

// SignatureVerifier checks a Oneflow webhook signature in constant time.
type SignatureVerifier interface {
	Verify(callbackID, signature string) bool
}
