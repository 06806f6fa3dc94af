package flexhrm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"time"
)

// UploadRequest is one PDF to store in an employee's Flex HRM documents.
type UploadRequest struct {
	EmployeeID string
	CategoryID string
	// Title is the document's name in Flex HRM (at most MaxDocumentTitleLength
	// characters; Flex HRM refuses longer ones with ErrNameTooLong).
	Title string
	// PDF is read once, streamed, never held in memory whole.
	PDF io.Reader
	// Size is the PDF's length in bytes, or -1 when unknown (the body is then
	// sent chunked). A known size must be exact; 0 is refused (a zero value
	// left by mistake, since a PDF is never empty).
	Size int64
}

// UploadEmployeeDocument uploads a PDF (P10) as multipart part "file" with
// content type application/pdf, streaming it. Never retried: the caller makes
// a repeat safe by listing documents first. A PDF over MaxUploadBytes is
// refused with ErrPayloadTooLarge as soon as that is known, without sending
// the rest.
func (c *Client) UploadEmployeeDocument(ctx context.Context, req UploadRequest) (Document, error) {
	const op = "upload employee document"
	if req.PDF == nil {
		return Document{}, invalidInput(op, errors.New("PDF reader is nil"))
	}
	if req.Size < -1 || req.Size == 0 {
		return Document{}, invalidInput(op, errors.New("size must be the exact length of a non-empty PDF, or -1 when unknown"))
	}
	if req.Size > MaxUploadBytes {
		return Document{}, &tooLargeError{op: op}
	}
	for _, f := range []struct{ name, v string }{{"employee id", req.EmployeeID}, {"category id", req.CategoryID}, {"title", req.Title}} {
		if f.v == "" {
			return Document{}, invalidInput(op, fmt.Errorf("%s is empty", f.name))
		}
	}
	path, err := expand(c.paths.UploadEmployeeDocument, vars{
		"employeeId": req.EmployeeID, "documentCategoryId": req.CategoryID, "title": req.Title,
	})
	if err != nil {
		return Document{}, invalidInput(op, err)
	}

	head, tail, contentType, err := multipartFrame(req.Title)
	if err != nil {
		return Document{}, invalidInput(op, err)
	}
	pdf := &countingReader{r: req.PDF, want: req.Size}
	body := io.MultiReader(bytes.NewReader(head), pdf, bytes.NewReader(tail))

	uctx, cancel := context.WithTimeout(context.WithValue(ctx, opKey{}, op), c.uploadTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(uctx, http.MethodPost, c.root+path, body)
	if err != nil {
		return Document{}, fmt.Errorf("flexhrm: %s: building the request failed", op)
	}
	if req.Size >= 0 {
		hreq.ContentLength = int64(len(head)) + req.Size + int64(len(tail))
	} else {
		hreq.ContentLength = -1
	}
	c.setHeaders(hreq)
	hreq.Header.Set("Content-Type", contentType)

	start := time.Now()
	hresp, err := c.http.Do(hreq)
	// A PDF that failed on our side wins over whatever Flex HRM answered:
	// the server may answer the incomplete body before the transport
	// reports the failed write, and its answer (a 400 about the file) would
	// hide the real cause. It never stored anything: countingReader stops
	// short of the announced length, so the body is never complete.
	if pdf.tooLarge || pdf.err != nil {
		if hresp != nil {
			hresp.Body.Close()
		}
		if pdf.tooLarge {
			return Document{}, &tooLargeError{op: op}
		}
		return Document{}, fmt.Errorf("flexhrm: %s: reading the PDF: %w", op, pdf.err)
	}
	if err != nil {
		return Document{}, c.transportError(ctx, op, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes+1))
	if err != nil {
		return Document{}, c.transportError(ctx, op, err)
	}
	c.logger.DebugContext(ctx, "flexhrm: call", "op", op, "method", http.MethodPost, "status", hresp.StatusCode, "bytes", pdf.n, "duration", time.Since(start))
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return Document{}, classify(op, hresp.StatusCode, hresp.Header, data)
	}
	doc, err := decodeObject[Document](data)
	if err != nil {
		return Document{}, &APIError{Op: op, Status: hresp.StatusCode, Message: err.Error(), kinds: []error{ErrUnexpectedResponse}}
	}
	return doc, nil
}

// multipartFrame renders everything of the multipart body except the PDF:
// the part header before it and the closing boundary after it, so the body
// can be streamed (and its length known when the PDF's is).
func multipartFrame(title string) (head, tail []byte, contentType string, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	disposition := mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": title})
	if disposition == "" {
		return nil, nil, "", errors.New("title cannot be used as a file name")
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", "application/pdf")
	if _, err := mw.CreatePart(h); err != nil {
		return nil, nil, "", err
	}
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, nil, "", err
	}
	tail = bytes.Clone(buf.Bytes())
	return head, tail, mw.FormDataContentType(), nil
}

// countingReader counts the PDF's bytes, stops past MaxUploadBytes and
// insists on the announced size.
type countingReader struct {
	r        io.Reader
	want     int64 // -1: unknown
	n        int64
	tooLarge bool
	err      error
}

var errPDFTooLarge = errors.New("PDF is over the upload limit")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.want >= 0 && int64(len(p)) > c.want-c.n+1 {
		// One byte past the announced size is enough to tell it is longer.
		p = p[:c.want-c.n+1]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > MaxUploadBytes {
		c.tooLarge = true
		return n, errPDFTooLarge
	}
	if c.want >= 0 && c.n > c.want {
		// Never pass on a byte past the announced size: the body then stays
		// short of its Content-Length and Flex HRM cannot take it for whole.
		c.err = fmt.Errorf("the PDF is longer than the announced %d bytes", c.want)
		return n - int(c.n-c.want), c.err
	}
	if err == io.EOF && c.want >= 0 && c.n != c.want {
		c.err = fmt.Errorf("the PDF ended after %d of the announced %d bytes", c.n, c.want)
		return n, c.err
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// tooLargeError is a PDF refused before Flex HRM had to read it all.
type tooLargeError struct{ op string }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("flexhrm: %s: the PDF is over %d MiB", e.op, MaxUploadBytes>>20)
}

func (e *tooLargeError) Unwrap() error { return ErrPayloadTooLarge }

// ListEmploymentDocuments returns a company's uploaded documents (P11), all
// pages, optionally of one employee and one category.
func (c *Client) ListEmploymentDocuments(ctx context.Context, companyID, employeeID, categoryID string) ([]Document, error) {
	const op = "list employment documents"
	if companyID == "" {
		return nil, invalidInput(op, errors.New("company id is empty"))
	}
	return listAll[Document](ctx, c, op, c.paths.ListEmploymentDocuments, vars{
		"companyId": companyID, "employeeId": employeeID, "documentCategoryId": categoryID,
	})
}
