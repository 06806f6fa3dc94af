// Package archive adapts document-archive's gRPC API to the app.Archive
// port used by replay, presenting contract-sync's operator token.
package archive

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Client implements app.Archive.
type Client struct {
	api   documentarchivev1.DocumentArchiveServiceClient
	token string
}

// New wraps a connection; token is an operator token.
func New(conn grpc.ClientConnInterface, token string) (*Client, error) {
	if conn == nil || token == "" {
		return nil, errors.New("archive.New: nil connection or empty token")
	}
	return &Client{api: documentarchivev1.NewDocumentArchiveServiceClient(conn), token: token}, nil
}

var _ app.Archive = (*Client)(nil)

// ArchiveContractDocument implements app.Archive.
func (c *Client) ArchiveContractDocument(ctx context.Context, contractID int64, status_ string, generation int32) (bool, error) {
	st := documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING
	if status_ == "signed" {
		st = documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
	resp, err := c.api.ArchiveContractDocument(ctx, &documentarchivev1.ArchiveContractDocumentRequest{
		ContractId: contractID, Status: st, Generation: generation,
	})
	if err != nil {
		s, _ := status.FromError(err)
		ue := &domain.UpstreamError{System: domain.SystemDocumentArchive, Op: "archive document", Err: errors.New(s.Code().String())}
		switch s.Code() {
		case codes.Unauthenticated, codes.PermissionDenied:
			ue.Kind, ue.Reason = domain.KindCredentials, domain.CredentialsReason(domain.SystemDocumentArchive)
		case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
			ue.Kind, ue.Reason = domain.KindInvalid, "document-archive could not archive the document: "+s.Message()
		default:
			ue.Kind, ue.Reason = domain.KindTransient, "document-archive unavailable"
		}
		return false, ue
	}
	return resp.GetOutcome() == documentarchivev1.ArchiveOutcome_ARCHIVE_OUTCOME_UPLOADED, nil
}
