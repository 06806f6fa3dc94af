package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/flexflow/flexflow/libs/telemetry"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
)

// ServiceName is how document-archive signs its sync-log entries.
const ServiceName = "document-archive"

// SyncLogSubjectPrefix starts the subject of a contract's sync log.
const SyncLogSubjectPrefix = "flexflow.synclog."

// JetStreamSyncLog appends entries to the FLEXFLOW_SYNCLOG stream.
type JetStreamSyncLog struct {
	js  jetstream.JetStream
	now func() time.Time
}

// NewJetStreamSyncLog publishes through js.
func NewJetStreamSyncLog(js jetstream.JetStream) (*JetStreamSyncLog, error) {
	if js == nil {
		return nil, errors.New("adapters: JetStream is nil")
	}
	return &JetStreamSyncLog{js: js, now: time.Now}, nil
}

// Append publishes one entry and waits for the stream's acknowledgement.
func (s *JetStreamSyncLog) Append(ctx context.Context, e app.LogEntry) error {
	entry := &eventsv1.SyncLogEntry{
		ContractId: e.ContractID,
		Time:       timestamppb.New(s.now()),
		Flow:       eventsv1.Flow_FLOW_ARCHIVE,
		Step:       e.Step,
		Outcome:    outcomeProto(e.Outcome),
		Reason:     e.Reason,
		Service:    ServiceName,
		EventType:  e.EventType,
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		entry.TraceId = sc.TraceID().String()
	}
	b, err := proto.Marshal(entry)
	if err != nil {
		return fmt.Errorf("encoding a sync-log entry: %w", err)
	}
	msg := &nats.Msg{Subject: fmt.Sprintf("%s%d", SyncLogSubjectPrefix, e.ContractID), Data: b, Header: nats.Header{}}
	telemetry.InjectNATS(ctx, msg.Header)
	if _, err := s.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("appending to the sync log: %w", err)
	}
	return nil
}

func outcomeProto(o app.Outcome) eventsv1.Outcome {
	switch o {
	case app.OutcomeDone:
		return eventsv1.Outcome_OUTCOME_DONE
	case app.OutcomeSkipped:
		return eventsv1.Outcome_OUTCOME_SKIPPED
	case app.OutcomeWarning:
		return eventsv1.Outcome_OUTCOME_WARNING
	case app.OutcomeFailed:
		return eventsv1.Outcome_OUTCOME_FAILED
	}
	return eventsv1.Outcome_OUTCOME_UNSPECIFIED
}
