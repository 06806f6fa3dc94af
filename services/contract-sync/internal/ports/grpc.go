// Package ports drives contract-sync's application from the outside: the
// gRPC ContractSyncService, the partitioned JetStream consumers that feed
// the worker, and the retry scheduler that wakes parked contracts.
package ports

import (
	"context"
	"errors"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flexflow/flexflow/libs/auth"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
)

// Methods lists the service's methods with the token kind each requires:
// the webhook is open (Oneflow's signature authenticates it), the rest are
// operator-only.
func Methods() map[string]auth.Kind {
	const svc = "/" + "flexflow.contractsync.v1.ContractSyncService/"
	return map[string]auth.Kind{
		contractsyncv1.ContractSyncService_ReceiveOneflowWebhook_FullMethodName: auth.KindOpen,
		contractsyncv1.ContractSyncService_GetContractSync_FullMethodName:       auth.KindOperator,
		contractsyncv1.ContractSyncService_ReplayContract_FullMethodName:        auth.KindOperator,
		contractsyncv1.ContractSyncService_ListFailures_FullMethodName:          auth.KindOperator,
		svc: auth.KindOperator,
	}
}

// GRPCServer implements ContractSyncService.
type GRPCServer struct {
	contractsyncv1.UnimplementedContractSyncServiceServer
	ingest  *app.Ingest
	queries *app.Queries
	logger  *slog.Logger
}

// NewGRPCServer wires the server.
func NewGRPCServer(ingest *app.Ingest, queries *app.Queries, logger *slog.Logger) (*GRPCServer, error) {
	if ingest == nil || queries == nil || logger == nil {
		return nil, errors.New("ports.NewGRPCServer: nil dependency")
	}
	return &GRPCServer{ingest: ingest, queries: queries, logger: logger}, nil
}

// ReceiveOneflowWebhook verifies and stores a notification.
func (s *GRPCServer) ReceiveOneflowWebhook(ctx context.Context, req *contractsyncv1.ReceiveOneflowWebhookRequest) (*contractsyncv1.ReceiveOneflowWebhookResponse, error) {
	dup, err := s.ingest.Receive(ctx, req)
	switch {
	case err == nil:
		return &contractsyncv1.ReceiveOneflowWebhookResponse{Duplicate: dup}, nil
	case errors.Is(err, app.ErrBadSignature):
		return nil, status.Error(codes.Unauthenticated, "invalid webhook signature")
	case errors.Is(err, app.ErrInvalidWebhook):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return nil, s.internal(ctx, "webhook could not be stored; send it again", err)
}

// GetContractSync returns a contract's state and sync log.
func (s *GRPCServer) GetContractSync(ctx context.Context, req *contractsyncv1.GetContractSyncRequest) (*contractsyncv1.GetContractSyncResponse, error) {
	resp, err := s.queries.ContractSync(ctx, req.GetContractId())
	if err != nil {
		return nil, s.mapErr(ctx, err)
	}
	return resp, nil
}

// ReplayContract queues a replay.
func (s *GRPCServer) ReplayContract(ctx context.Context, req *contractsyncv1.ReplayContractRequest) (*contractsyncv1.ReplayContractResponse, error) {
	if err := s.queries.Replay(ctx, req.GetContractId()); err != nil {
		return nil, s.mapErr(ctx, err)
	}
	var traceID string
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		traceID = sc.TraceID().String()
	}
	return &contractsyncv1.ReplayContractResponse{TraceId: traceID}, nil
}

// ListFailures lists failed contracts, newest first.
func (s *GRPCServer) ListFailures(ctx context.Context, req *contractsyncv1.ListFailuresRequest) (*contractsyncv1.ListFailuresResponse, error) {
	resp, err := s.queries.Failures(ctx, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, s.mapErr(ctx, err)
	}
	return resp, nil
}

func (s *GRPCServer) mapErr(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, app.ErrInvalidArgument):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	return s.internal(ctx, "storage unavailable; try again", err)
}

// internal logs the cause and answers Unavailable: every such failure here
// is NATS not answering, which a retry may fix.
func (s *GRPCServer) internal(ctx context.Context, msg string, err error) error {
	s.logger.ErrorContext(ctx, msg, slog.String("error", err.Error()))
	return status.Error(codes.Unavailable, msg)
}
