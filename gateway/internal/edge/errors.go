package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorBody is the one shape every error of the edge takes, whether it comes
// from a backend's gRPC status or from the edge itself (size, content type,
// routing), so callers parse one thing.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one error.
type ErrorDetail struct {
	// HTTPStatus repeats the response status for clients that lose it.
	HTTPStatus int `json:"http_status"`
	// Code is the gRPC code name, e.g. "UNAUTHENTICATED".
	Code string `json:"code"`
	// Message is a short, caller-safe reason.
	Message string `json:"message"`
}

// WriteError writes an error in the edge's one JSON shape.
func WriteError(w http.ResponseWriter, httpStatus int, code codes.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpStatus)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{
		HTTPStatus: httpStatus,
		Code:       codeName(code),
		Message:    msg,
	}})
}

func codeName(c codes.Code) string {
	// codes.Code.String gives "Unauthenticated"; the upper snake form matches
	// google.rpc.Code names that API users search for.
	name := c.String()
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// errorHandler maps a gRPC status from a backend (or from the gateway's own
// decoding) to the edge's error shape.
func errorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
	st := status.Convert(err)
	httpStatus := runtime.HTTPStatusFromCode(st.Code())
	msg := st.Message()
	if st.Code() == codes.Unknown || st.Code() == codes.Internal {
		// Backends already keep internals out of their messages; the edge
		// still refuses to relay an unclassified error verbatim.
		msg = "internal error"
	}
	WriteError(w, httpStatus, st.Code(), msg)
}

// routingErrorHandler answers unknown routes and methods in the one shape.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusNotFound:
		WriteError(w, httpStatus, codes.NotFound, "no such route")
	case http.StatusMethodNotAllowed:
		WriteError(w, httpStatus, codes.Unimplemented, "method not allowed on this route")
	default:
		WriteError(w, http.StatusBadRequest, codes.InvalidArgument, "bad request")
	}
}

// quoted matches quoted values inside decoder errors, which may carry what a
// caller sent (personal data on PATCH /v1/employees): they are elided.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortReason turns a JSON/protojson decoding error into a short reason that
// never echoes the caller's values.
func shortReason(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "proto: ")
	msg = strings.TrimPrefix(msg, "proto:")
	msg = quoted.ReplaceAllString(msg, `"…"`)
	msg = strings.TrimSpace(msg)
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return msg
}
