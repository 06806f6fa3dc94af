package ports

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/adapters"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// Lister is the query ListDocuments answers from.
type Lister interface {
	ListDocuments(ctx context.Context, q app.DocumentQuery) ([]domain.Record, error)
}

// GRPCServer implements DocumentArchiveService. Authentication (operator
// tokens) is the server's interceptor's job, not this type's.
type GRPCServer struct {
	documentarchivev1.UnimplementedDocumentArchiveServiceServer
	archiver Archiver
	lister   Lister
}

// NewGRPCServer wires the service; both dependencies are required.
func NewGRPCServer(archiver Archiver, lister Lister) (*GRPCServer, error) {
	if archiver == nil || lister == nil {
		return nil, errors.New("ports: gRPC server dependency is nil")
	}
	return &GRPCServer{archiver: archiver, lister: lister}, nil
}

// ArchiveContractDocument archives a job on request (replay). It runs the
// same use case as the event consumer, without its retries: a transient
// failure answers Unavailable and the caller may try again.
func (s *GRPCServer) ArchiveContractDocument(ctx context.Context, req *documentarchivev1.ArchiveContractDocumentRequest) (*documentarchivev1.ArchiveContractDocumentResponse, error) {
	key := domain.JobKey{ContractID: req.GetContractId(), Status: adapters.StatusFromProto(req.GetStatus()), Generation: req.GetGeneration()}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.Int64(attrContractID, key.ContractID), attribute.String(attrStatus, key.Status.String()))
	if err := key.Validate(); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	res, err := s.archiver.Archive(ctx, app.Request{Key: key, EventType: "replay"})
	if err != nil {
		span.SetAttributes(attribute.String(attrOutcome, "error"))
		return nil, archiveStatus(ctx, err)
	}
	out := documentarchivev1.ArchiveOutcome_ARCHIVE_OUTCOME_UPLOADED
	span.SetAttributes(attribute.String(attrOutcome, "uploaded"))
	if res.Outcome == app.AlreadyArchived {
		out = documentarchivev1.ArchiveOutcome_ARCHIVE_OUTCOME_ALREADY_ARCHIVED
		span.SetAttributes(attribute.String(attrOutcome, "already_archived"))
	}
	return &documentarchivev1.ArchiveContractDocumentResponse{Outcome: out, Document: adapters.RecordProto(res.Record)}, nil
}

// ListDocuments lists archive records by contract or by employee number.
func (s *GRPCServer) ListDocuments(ctx context.Context, req *documentarchivev1.ListDocumentsRequest) (*documentarchivev1.ListDocumentsResponse, error) {
	recs, err := s.lister.ListDocuments(ctx, app.DocumentQuery{ContractID: req.GetContractId(), EmployeeNumber: req.GetEmployeeNumber()})
	switch {
	case errors.Is(err, app.ErrInvalidQuery):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case err != nil:
		return nil, contextStatus(ctx, codes.Unavailable, "reading archive records failed; try again")
	}
	out := &documentarchivev1.ListDocumentsResponse{Documents: make([]*documentarchivev1.ArchivedDocument, 0, len(recs))}
	for _, r := range recs {
		out.Documents = append(out.Documents, adapters.RecordProto(r))
	}
	return out, nil
}

// archiveStatus maps the archiver's errors to gRPC codes, once. Messages
// are the app's reasons, which never carry personal data.
func archiveStatus(ctx context.Context, err error) error {
	var perm *app.PermanentError
	switch {
	case errors.As(err, &perm):
		return status.Error(codes.FailedPrecondition, perm.Reason)
	case errors.Is(err, app.ErrBusy):
		return status.Error(codes.Aborted, app.ErrBusy.Error())
	case errors.Is(err, app.ErrHalted):
		return status.Error(codes.Aborted, "archive halted by a test hook")
	default:
		return contextStatus(ctx, codes.Unavailable, "archiving failed for now: "+err.Error())
	}
}

func contextStatus(ctx context.Context, c codes.Code, msg string) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(ctx.Err(), context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	}
	return status.Error(c, msg)
}
