package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is the contract status a PDF is archived for.
type Status int

// The statuses a contract PDF is archived for. StatusUnknown is the zero
// value so that a forgotten status is never mistaken for a real one.
const (
	StatusUnknown Status = iota
	StatusPending
	StatusSigned
)

// String returns the lowercase word used in keys, message ids and logs.
func (s Status) String() string {
	switch s {
	case StatusPending:
		return "pending"
	case StatusSigned:
		return "signed"
	default:
		return "unknown"
	}
}

// TitleSuffix is the part of the document title that names the status; it is
// never shortened.
func (s Status) TitleSuffix() string {
	switch s {
	case StatusSigned:
		return " - Signed.pdf"
	default:
		return " - Pending.pdf"
	}
}

// Step is the sync-log step name of archiving this status.
func (s Status) Step() string { return "upload_" + s.String() }

// Valid reports whether s names a status that can be archived.
func (s Status) Valid() bool { return s == StatusPending || s == StatusSigned }

// ParseStatus reads the word String writes.
func ParseStatus(word string) (Status, error) {
	switch word {
	case "pending":
		return StatusPending, nil
	case "signed":
		return StatusSigned, nil
	}
	return StatusUnknown, fmt.Errorf("unknown document status %q", word)
}

// JobKey identifies one archive job: exactly one document per contract,
// status and generation (the count of signature resets) ends up in Flex HRM.
type JobKey struct {
	ContractID int64
	Status     Status
	Generation int32
}

// String renders the key as `<contract>.<status>.<generation>`, a form that
// is also a valid NATS KV key suffix.
func (k JobKey) String() string {
	return strconv.FormatInt(k.ContractID, 10) + "." + k.Status.String() + "." + strconv.FormatInt(int64(k.Generation), 10)
}

// Validate refuses keys no event or operator could mean.
func (k JobKey) Validate() error {
	switch {
	case k.ContractID <= 0:
		return fmt.Errorf("contract id %d is not a Oneflow contract id", k.ContractID)
	case !k.Status.Valid():
		return fmt.Errorf("status must be pending or signed")
	case k.Generation < 0:
		return fmt.Errorf("generation %d is negative", k.Generation)
	}
	return nil
}

// ParseJobKey reads the form String writes.
func ParseJobKey(s string) (JobKey, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return JobKey{}, fmt.Errorf("archive key %q is not <contract>.<status>.<generation>", s)
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return JobKey{}, fmt.Errorf("archive key %q: contract id: %w", s, err)
	}
	status, err := ParseStatus(parts[1])
	if err != nil {
		return JobKey{}, fmt.Errorf("archive key %q: %w", s, err)
	}
	gen, err := strconv.ParseInt(parts[2], 10, 32)
	if err != nil {
		return JobKey{}, fmt.Errorf("archive key %q: generation: %w", s, err)
	}
	k := JobKey{ContractID: id, Status: status, Generation: int32(gen)}
	return k, k.Validate()
}

// ParseEventMsgID reads contract-sync's event message id
// `<contract_id>-<pending|signed>-<generation>`, so that even an event whose
// payload cannot be decoded is recorded in the right contract's sync log.
func ParseEventMsgID(id string) (JobKey, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return JobKey{}, fmt.Errorf("event id %q is not <contract>-<status>-<generation>", id)
	}
	return ParseJobKey(strings.Join(parts, "."))
}

// Target is the employee a document belongs to, as Flex HRM knows them.
type Target struct {
	EmployeeNumber string
	FlexEmployeeID string
	FlexCompanyID  string
}

// Record is what document-archive remembers about one upload to Flex HRM;
// it is the proof that a job is done.
type Record struct {
	Key            JobKey
	FlexDocumentID string
	Title          string
	// SHA256 is the lowercase hex digest of the uploaded bytes; empty when
	// the upload was found in Flex HRM after a crash and its bytes were not
	// seen by this process.
	SHA256     string
	SizeBytes  int64
	ArchivedAt time.Time
	Target     Target
	CategoryID string
}

// FlexDocument is a document as Flex HRM lists it.
type FlexDocument struct {
	ID         string
	Title      string
	CategoryID string
	SizeBytes  int64
}

// FindUnclaimed returns the first document titled title that no other
// archive job has claimed; claimedBy maps a Flex HRM document id to the job
// that recorded it. The claim check keeps two contracts with the same name,
// or two generations of one contract, from taking each other's document for
// their own; a document claimed by self is self's (a crash fell between the
// claim and the record).
func FindUnclaimed(docs []FlexDocument, title string, claimedBy map[string]JobKey, self JobKey) (FlexDocument, bool) {
	for _, d := range docs {
		if d.Title != title {
			continue
		}
		if owner, claimed := claimedBy[d.ID]; claimed && owner != self {
			continue
		}
		return d, true
	}
	return FlexDocument{}, false
}
