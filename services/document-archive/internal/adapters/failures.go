package adapters

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// FailuresBucket is the shared dead-letter list (key: decimal contract id).
const FailuresBucket = "flexflow_failures"

// KVFailures lists contracts whose archive failed in the shared failures
// bucket, and keeps a marker per failed job in the documents bucket so that
// one job's success does not hide another job's failure.
type KVFailures struct {
	failures  jetstream.KeyValue
	documents jetstream.KeyValue
}

// NewKVFailures wraps the failures and documents buckets.
func NewKVFailures(failures, documents jetstream.KeyValue) (*KVFailures, error) {
	if failures == nil || documents == nil {
		return nil, errors.New("adapters: failures or documents KV is nil")
	}
	return &KVFailures{failures: failures, documents: documents}, nil
}

// Fail marks the job failed and lists the contract.
func (f *KVFailures) Fail(ctx context.Context, fl app.Failure) error {
	if _, err := f.documents.Put(ctx, prefixFail+fl.Key.String(), []byte(fl.Reason)); err != nil {
		return fmt.Errorf("marking the archive job failed: %w", err)
	}
	cf := &contractsyncv1.ContractFailure{
		ContractId: fl.Key.ContractID,
		Flow:       eventsv1.Flow_FLOW_ARCHIVE,
		Reason:     fl.Reason,
		FailedTime: timestamppb.New(fl.Time),
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		cf.TraceId = sc.TraceID().String()
	}
	b, err := proto.Marshal(cf)
	if err != nil {
		return fmt.Errorf("encoding the contract failure: %w", err)
	}
	if _, err := f.failures.Put(ctx, strconv.FormatInt(fl.Key.ContractID, 10), b); err != nil {
		return fmt.Errorf("listing the contract in failures: %w", err)
	}
	return nil
}

// Clear forgets the job's failure; the contract leaves the failures list
// when no other archive job of it is failed and the listed failure is an
// archive one (contract-sync's own failures are its to clear).
func (f *KVFailures) Clear(ctx context.Context, key domain.JobKey) error {
	marker := prefixFail + key.String()
	if _, err := f.documents.Get(ctx, marker); err == nil {
		if err := f.documents.Delete(ctx, marker); err != nil {
			return fmt.Errorf("clearing the archive job's failure: %w", err)
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("reading the archive job's failure: %w", err)
	}
	lister, err := f.documents.ListKeysFiltered(ctx, fmt.Sprintf("%s%d.>", prefixFail, key.ContractID))
	if err != nil {
		return fmt.Errorf("listing the contract's failed archive jobs: %w", err)
	}
	others := 0
	for range lister.Keys() {
		others++
	}
	if others > 0 {
		return nil
	}
	id := strconv.FormatInt(key.ContractID, 10)
	e, err := f.failures.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the contract's failure: %w", err)
	}
	var cf contractsyncv1.ContractFailure
	if err := proto.Unmarshal(e.Value(), &cf); err != nil || cf.GetFlow() != eventsv1.Flow_FLOW_ARCHIVE {
		return nil
	}
	if err := f.failures.Delete(ctx, id, jetstream.LastRevision(e.Revision())); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("removing the contract from failures: %w", err)
	}
	return nil
}
