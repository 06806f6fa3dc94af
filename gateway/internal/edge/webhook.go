package edge

import (
	"net/http"

	"google.golang.org/grpc/codes"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
)

// WebhookPath is Oneflow's webhook route.
const WebhookPath = "/v1/webhooks/oneflow"

// webhookHandler forwards Oneflow's webhooks to contract-sync. It does what
// grpc-gateway's generated route does for this one call (decode the body
// with the edge's marshaler, call ReceiveOneflowWebhook, answer the message
// as JSON or the status in the edge's error shape) without its generic
// machinery: header-to-metadata annotation, response-metadata forwarding
// and routing, about a quarter of the edge's own work per webhook, on the
// route that takes every notification Oneflow sends. The route is open
// (Oneflow's signature authenticates it inside contract-sync), so no header
// travels to the backend; the trace context does, through the gRPC client's
// instrumentation.
type webhookHandler struct {
	client contractsyncv1.ContractSyncServiceClient
	m      *marshaler
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req contractsyncv1.ReceiveOneflowWebhookRequest
	if err := h.m.decodeBody(r.Body, &req); err != nil {
		WriteError(w, http.StatusBadRequest, codes.InvalidArgument, err.Error())
		return
	}
	resp, err := h.client.ReceiveOneflowWebhook(r.Context(), &req)
	if err != nil {
		errorHandler(r.Context(), nil, h.m, w, r, err)
		return
	}
	body, err := h.m.Marshal(resp)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, codes.Internal, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
