package adapters

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// DocumentsBucket is the KV bucket of archive records (shared conventions).
const DocumentsBucket = "flexflow_documents"

// Key layout in DocumentsBucket. Every key starts with its kind so that one
// bucket holds records, indexes, claims and leases without clashes:
//
//	doc.<contract>.<status>.<generation>          archive record (proto)
//	emp.<hex employee number>.<job>               copy of the record, by employee
//	claim.<flex document id>                       job that recorded the document
//	target.<job>                                   employee the job is for (JSON)
//	fail.<job>                                     this job failed for good
//	lease.<job>                                    who is working on the job
const (
	prefixDoc    = "doc."
	prefixEmp    = "emp."
	prefixClaim  = "claim."
	prefixTarget = "target."
	prefixFail   = "fail."
	prefixLease  = "lease."
)

// KVRecords keeps archive records in JetStream KV.
type KVRecords struct {
	kv jetstream.KeyValue
}

// NewKVRecords wraps the flexflow_documents bucket.
func NewKVRecords(kv jetstream.KeyValue) (*KVRecords, error) {
	if kv == nil {
		return nil, errors.New("adapters: documents KV is nil")
	}
	return &KVRecords{kv: kv}, nil
}

// Get reads the job's record.
func (r *KVRecords) Get(ctx context.Context, key domain.JobKey) (domain.Record, bool, error) {
	e, err := r.kv.Get(ctx, prefixDoc+key.String())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.Record{}, false, nil
	}
	if err != nil {
		return domain.Record{}, false, fmt.Errorf("reading archive record %s: %w", key, err)
	}
	rec, err := decodeRecord(e.Value())
	if err != nil {
		return domain.Record{}, false, fmt.Errorf("archive record %s: %w", key, err)
	}
	return rec, true, nil
}

// ClaimedBy tells which job recorded a Flex HRM document.
func (r *KVRecords) ClaimedBy(ctx context.Context, flexDocumentID string) (domain.JobKey, bool, error) {
	e, err := r.kv.Get(ctx, prefixClaim+safeToken(flexDocumentID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.JobKey{}, false, nil
	}
	if err != nil {
		return domain.JobKey{}, false, fmt.Errorf("reading the claim on a Flex HRM document: %w", err)
	}
	k, err := domain.ParseJobKey(string(e.Value()))
	if err != nil {
		return domain.JobKey{}, false, fmt.Errorf("claim on a Flex HRM document: %w", err)
	}
	return k, true, nil
}

// Save writes the claim, then the record, then the employee index: a crash
// after the claim leaves a claim that names this very job, which the next
// attempt accepts as its own.
func (r *KVRecords) Save(ctx context.Context, rec domain.Record) error {
	if _, err := r.kv.Put(ctx, prefixClaim+safeToken(rec.FlexDocumentID), []byte(rec.Key.String())); err != nil {
		return fmt.Errorf("claiming the Flex HRM document: %w", err)
	}
	b, err := proto.Marshal(RecordProto(rec))
	if err != nil {
		return fmt.Errorf("encoding archive record %s: %w", rec.Key, err)
	}
	if _, err := r.kv.Put(ctx, prefixDoc+rec.Key.String(), b); err != nil {
		return fmt.Errorf("writing archive record %s: %w", rec.Key, err)
	}
	if rec.Target.EmployeeNumber != "" {
		if _, err := r.kv.Put(ctx, employeePrefix(rec.Target.EmployeeNumber)+rec.Key.String(), b); err != nil {
			return fmt.Errorf("indexing archive record %s by employee: %w", rec.Key, err)
		}
	}
	return nil
}

// ByContract lists the contract's records.
func (r *KVRecords) ByContract(ctx context.Context, contractID int64) ([]domain.Record, error) {
	return r.scan(ctx, fmt.Sprintf("%s%d.>", prefixDoc, contractID))
}

// ByEmployee lists the records of an employment number.
func (r *KVRecords) ByEmployee(ctx context.Context, employeeNumber string) ([]domain.Record, error) {
	return r.scan(ctx, employeePrefix(employeeNumber)+">")
}

func (r *KVRecords) scan(ctx context.Context, filter string) ([]domain.Record, error) {
	w, err := r.kv.WatchFiltered(ctx, []string{filter}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("listing archive records: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []domain.Record
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return out, nil
			}
			rec, err := decodeRecord(e.Value())
			if err != nil {
				return nil, fmt.Errorf("archive record %s: %w", e.Key(), err)
			}
			out = append(out, rec)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// SaveTarget remembers the job's employee for replays.
func (r *KVRecords) SaveTarget(ctx context.Context, key domain.JobKey, t domain.Target) error {
	b, err := json.Marshal(targetJSON(t))
	if err != nil {
		return fmt.Errorf("encoding the job's employee: %w", err)
	}
	if _, err := r.kv.Put(ctx, prefixTarget+key.String(), b); err != nil {
		return fmt.Errorf("writing the job's employee: %w", err)
	}
	return nil
}

// Target reads what SaveTarget wrote.
func (r *KVRecords) Target(ctx context.Context, key domain.JobKey) (domain.Target, bool, error) {
	e, err := r.kv.Get(ctx, prefixTarget+key.String())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.Target{}, false, nil
	}
	if err != nil {
		return domain.Target{}, false, fmt.Errorf("reading the job's employee: %w", err)
	}
	var t targetJSON
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return domain.Target{}, false, fmt.Errorf("decoding the job's employee: %w", err)
	}
	return domain.Target(t), true, nil
}

type targetJSON struct {
	EmployeeNumber string `json:"employee_number"`
	FlexEmployeeID string `json:"flex_employee_id"`
	FlexCompanyID  string `json:"flex_company_id"`
}

// RecordProto is the API form of a record (also its stored form).
func RecordProto(rec domain.Record) *documentarchivev1.ArchivedDocument {
	return &documentarchivev1.ArchivedDocument{
		ContractId:             rec.Key.ContractID,
		Status:                 StatusProto(rec.Key.Status),
		Generation:             rec.Key.Generation,
		FlexDocumentId:         rec.FlexDocumentID,
		Title:                  rec.Title,
		Sha256:                 rec.SHA256,
		SizeBytes:              rec.SizeBytes,
		ArchivedTime:           timestamppb.New(rec.ArchivedAt),
		EmployeeNumber:         rec.Target.EmployeeNumber,
		FlexEmployeeId:         rec.Target.FlexEmployeeID,
		FlexCompanyId:          rec.Target.FlexCompanyID,
		FlexDocumentCategoryId: rec.CategoryID,
	}
}

// StatusProto maps a domain status to the API enum.
func StatusProto(s domain.Status) documentarchivev1.DocumentStatus {
	switch s {
	case domain.StatusPending:
		return documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING
	case domain.StatusSigned:
		return documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED
	}
	return documentarchivev1.DocumentStatus_DOCUMENT_STATUS_UNSPECIFIED
}

// StatusFromProto maps the API enum to a domain status.
func StatusFromProto(s documentarchivev1.DocumentStatus) domain.Status {
	switch s {
	case documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING:
		return domain.StatusPending
	case documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED:
		return domain.StatusSigned
	}
	return domain.StatusUnknown
}

func decodeRecord(b []byte) (domain.Record, error) {
	var p documentarchivev1.ArchivedDocument
	if err := proto.Unmarshal(b, &p); err != nil {
		return domain.Record{}, fmt.Errorf("decoding: %w", err)
	}
	return domain.Record{
		Key:            domain.JobKey{ContractID: p.GetContractId(), Status: StatusFromProto(p.GetStatus()), Generation: p.GetGeneration()},
		FlexDocumentID: p.GetFlexDocumentId(),
		Title:          p.GetTitle(),
		SHA256:         p.GetSha256(),
		SizeBytes:      p.GetSizeBytes(),
		ArchivedAt:     p.GetArchivedTime().AsTime(),
		Target:         domain.Target{EmployeeNumber: p.GetEmployeeNumber(), FlexEmployeeID: p.GetFlexEmployeeId(), FlexCompanyID: p.GetFlexCompanyId()},
		CategoryID:     p.GetFlexDocumentCategoryId(),
	}, nil
}

// employeePrefix hex-encodes the employment number: it may hold characters
// KV keys do not allow, and it must not be readable in key listings either.
func employeePrefix(employeeNumber string) string {
	return prefixEmp + hex.EncodeToString([]byte(strings.TrimSpace(employeeNumber))) + "."
}

// safeToken keeps ids made of key-safe characters (Flex HRM's UUIDs) as
// they are and hex-encodes anything else; the two forms cannot collide
// because they carry different markers.
func safeToken(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "h_" + hex.EncodeToString([]byte(s))
		}
	}
	if s == "" {
		return "h_"
	}
	return "u_" + s
}
