package edge

import (
	"context"
	"encoding/json"
	"net/http"
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

// decodeErrorKinds are the kinds of protojson and encoding/json decoding
// errors. A reason keeps the position and the kind, never what follows: that
// is the caller's input (personal data on PATCH /v1/employees, or whatever a
// hostile sender put there).
var decodeErrorKinds = []string{
	"unexpected token", "unexpected EOF", "mismatched close character", "invalid escape code",
	"invalid UTF-8", "unknown field", "duplicate field", "exceeded max recursion depth",
	"invalid value for", "invalid value", "syntax error",
}

// shortReason turns a JSON/protojson decoding error into a short reason that
// never echoes the caller's values, e.g. "syntax error (line 1:252):
// invalid value" or "(line 1:15): invalid value for int64 field id".
func shortReason(err error) string {
	msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "proto:"), " "))
	prefix, rest := "", msg
	if i := strings.Index(msg, "): "); i >= 0 && strings.Contains(msg[:i], "(line ") {
		prefix, rest = msg[:i+3], msg[i+3:]
	}
	for _, kind := range decodeErrorKinds {
		if !strings.HasPrefix(rest, kind) {
			continue
		}
		if kind == "invalid value for" {
			// "invalid value for int64 field id: <value>": the field is
			// schema, the value is input.
			if j := strings.Index(rest, ":"); j >= 0 {
				return prefix + rest[:j]
			}
		}
		return prefix + kind
	}
	return strings.TrimSuffix(prefix, ": ") + " invalid JSON"
}
