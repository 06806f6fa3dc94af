package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
)

// MaxEventsPerWebhook bounds a notification's events.
const MaxEventsPerWebhook = 1000

// ErrInvalidWebhook is a notification of the wrong shape.
var ErrInvalidWebhook = errors.New("invalid webhook")

// ErrBadSignature is a missing or wrong webhook signature.
var ErrBadSignature = errors.New("invalid webhook signature")

// Ingest verifies and stores webhooks. It is the hot path of the webhook
// edge: validation, one constant-time check and one JetStream publish.
type Ingest struct {
	verifier SignatureVerifier
	queue    WebhookQueue
	logger   *slog.Logger
}

// NewIngest wires an Ingest.
func NewIngest(verifier SignatureVerifier, queue WebhookQueue, logger *slog.Logger) (*Ingest, error) {
	if verifier == nil || queue == nil || logger == nil {
		return nil, errors.New("app.NewIngest: nil dependency")
	}
	return &Ingest{verifier: verifier, queue: queue, logger: logger}, nil
}

// Receive validates the notification's shape, verifies its signature before
// anything is stored, and stores it. It returns ErrInvalidWebhook (wrapped
// with a short reason) or ErrBadSignature for the caller to map.
func (in *Ingest) Receive(ctx context.Context, req *contractsyncv1.ReceiveOneflowWebhookRequest) (duplicate bool, err error) {
	if err := ValidateWebhook(req); err != nil {
		return false, err
	}
	if !in.verifier.Verify(req.GetCallbackId(), req.GetSignature()) {
		// The log names the contract and callback, never the signature.
		in.logger.WarnContext(ctx, "webhook refused: invalid signature",
			slog.Int64("oneflow.contract.id", req.GetContract().GetId()),
			slog.Bool("signature_present", req.GetSignature() != ""))
		return false, ErrBadSignature
	}
	// A shallow copy without the signature: the stored notification must
	// not carry it, and the caller's message stays untouched.
	stored := &contractsyncv1.ReceiveOneflowWebhookRequest{
		Contract: req.GetContract(), CallbackId: req.GetCallbackId(), Events: req.GetEvents(),
	}
	dup, err := in.queue.Enqueue(ctx, stored)
	if err != nil {
		return false, fmt.Errorf("store webhook: %w", err)
	}
	return dup, nil
}

// ValidateWebhook checks the shape: a callback id, a positive contract id
// and 1 to 1000 events.
func ValidateWebhook(req *contractsyncv1.ReceiveOneflowWebhookRequest) error {
	switch {
	case req.GetCallbackId() == "":
		return fmt.Errorf("%w: callback_id is empty", ErrInvalidWebhook)
	case len(req.GetCallbackId()) > 256:
		return fmt.Errorf("%w: callback_id is too long", ErrInvalidWebhook)
	case req.GetContract().GetId() <= 0:
		return fmt.Errorf("%w: contract.id must be a positive number", ErrInvalidWebhook)
	case len(req.GetEvents()) == 0:
		return fmt.Errorf("%w: events is empty", ErrInvalidWebhook)
	case len(req.GetEvents()) > MaxEventsPerWebhook:
		return fmt.Errorf("%w: more than %d events", ErrInvalidWebhook, MaxEventsPerWebhook)
	}
	return nil
}
