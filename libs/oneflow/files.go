package oneflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ContractPDFFileID is the id of a contract's PDF: always file 1.
const ContractPDFFileID int64 = 1

const tracerName = "github.com/flexflow/flexflow/libs/oneflow"

// DownloadContractFile streams a file of a contract (ContractPDFFileID for the
// PDF). Oneflow answers with a redirect to a storage URL; the client follows
// it without the API token or user email. The caller must close the reader;
// RequestTimeout bounds the wait for the answer's headers, not the reading of
// the body, so large files are not cut off.
func (c *Client) DownloadContractFile(ctx context.Context, contractID, fileID int64) (io.ReadCloser, error) {
	cl := call{
		op:     "GET /contracts/{id}/files/{file_id}",
		method: http.MethodGet,
		path:   fmt.Sprintf("/contracts/%d/files/%d", contractID, fileID),
		query:  url.Values{"download": {"true"}},
	}
	return withRetries(ctx, c, cl, func(ctx context.Context) (io.ReadCloser, error) {
		return c.attemptDownload(ctx, cl)
	})
}

func (c *Client) attemptDownload(ctx context.Context, cl call) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	// Until headers arrive the request timeout applies; after that the body
	// streams for as long as the caller's context allows.
	headerTimer := time.AfterFunc(c.timeout, cancel)
	fail := func(err error) (io.ReadCloser, error) {
		headerTimer.Stop()
		cancel()
		return nil, err
	}

	req, err := c.newRequest(ctx, cl)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/pdf, application/octet-stream, */*")
	resp, err := c.api.Do(req)
	if err != nil {
		return fail(&transportError{op: cl.op, err: unwrapURLError(err)})
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		// Served directly, without a storage hop.
	case isRedirect(resp.StatusCode):
		location, err := resp.Location()
		resp.Body.Close()
		if err != nil {
			return fail(&decodeError{op: cl.op, err: errors.New("redirect without a usable Location")})
		}
		resp, err = c.fetchStorage(ctx, location)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			// Storage errors are not Oneflow JSON; keep the status only.
			resp.Body.Close()
			return fail(&APIError{Op: "GET storage (file redirect)", StatusCode: resp.StatusCode,
				Title: http.StatusText(resp.StatusCode), RequestID: resp.Header.Get(requestIDHeader)})
		}
	default:
		defer resp.Body.Close()
		return fail(c.apiError(cl.op, resp))
	}
	headerTimer.Stop()
	return &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}, nil
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// fetchStorage GETs the storage URL with a fresh request: none of the API
// headers are copied.
func (c *Client) fetchStorage(ctx context.Context, location *url.URL) (*http.Response, error) {
	const op = "GET storage (file redirect)"
	if location.Scheme != "http" && location.Scheme != "https" {
		return nil, &decodeError{op: op, err: errors.New("redirect to a non-HTTP URL")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("oneflow: %s: building the request: %w", op, err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.storage.Do(req)
	if err != nil {
		return nil, &transportError{op: op, err: unwrapURLError(err)}
	}
	return resp, nil
}

// cancelOnClose releases the download's context when the caller is done.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
	once   sync.Once
}

func (r *cancelOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.once.Do(r.cancel)
	return err
}

// storageTransport traces storage requests without recording their URL:
// presigned storage URLs carry a signature in the query, which must not end up
// in span attributes. It also sends no trace headers to the third party.
type storageTransport struct {
	base http.RoundTripper
}

func (t *storageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := otel.GetTracerProvider().Tracer(tracerName).Start(req.Context(), "oneflow GET storage",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
		))
	defer span.End()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetStatus(codes.Error, "storage request failed")
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}
