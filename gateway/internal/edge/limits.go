package edge

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
)

// limitBody enforces the edge's body rules before grpc-gateway sees a request:
// at most maxBytes (413 otherwise, whether or not Content-Length was sent),
// JSON content type on requests that carry a body (415), valid UTF-8 (400). Bodies are small (webhooks are a few hundred
// bytes), so reading them whole is cheaper than streaming a decoder that must
// be able to fail half-way.
func limitBody(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBytes {
			WriteError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "request body over the 1 MiB limit")
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || (mt != "application/json" && !(len(mt) > 5 && mt[len(mt)-5:] == "+json")) {
				WriteError(w, http.StatusUnsupportedMediaType, codes.InvalidArgument, "content type must be application/json")
				return
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				WriteError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "request body over the 1 MiB limit")
				return
			}
			WriteError(w, http.StatusBadRequest, codes.InvalidArgument, "could not read request body")
			return
		}
		if !utf8.Valid(body) {
			WriteError(w, http.StatusBadRequest, codes.InvalidArgument, "malformed JSON: body is not valid UTF-8")
			return
		}
		// Syntax is left to protojson, which parses the body anyway and
		// fails on malformed JSON with a position; parsing twice would be
		// the edge's most expensive step on the webhook path.
		r.Body = newBufferedBody(body)
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// bodyBytes returns a request body limitBody already read into memory
// without copying it again, or reads any other body.
func bodyBytes(r io.Reader) ([]byte, error) {
	if b, ok := r.(*bufferedBody); ok && b.Len() == len(b.data) {
		_, _ = b.Seek(0, io.SeekEnd) // read, as io.ReadAll would leave it
		return b.data, nil
	}
	return io.ReadAll(r)
}

// bufferedBody is a request body held in memory by limitBody.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func newBufferedBody(data []byte) *bufferedBody {
	return &bufferedBody{Reader: bytes.NewReader(data), data: data}
}

func (*bufferedBody) Close() error { return nil }
