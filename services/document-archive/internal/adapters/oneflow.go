package adapters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
)

// EmployeeNumberField is the custom_id of the contract's employee-number
// data field (mapping.md, row 1).
const EmployeeNumberField = "flexhrm_employee_number"

// OneflowClient is the part of libs/oneflow's client this adapter uses.
type OneflowClient interface {
	GetContract(ctx context.Context, contractID int64) (oneflow.Contract, error)
	GetTemplate(ctx context.Context, templateID int64) (oneflow.Template, error)
	DownloadContractFile(ctx context.Context, contractID, fileID int64) (io.ReadCloser, error)
}

// Oneflow reads contracts, templates and PDFs through libs/oneflow.
type Oneflow struct {
	client OneflowClient
}

// NewOneflow wraps a Oneflow client.
func NewOneflow(client OneflowClient) (*Oneflow, error) {
	if client == nil {
		return nil, errors.New("adapters: Oneflow client is nil")
	}
	return &Oneflow{client: client}, nil
}

// Contract reads the contract's name, state, template and employee number.
func (o *Oneflow) Contract(ctx context.Context, contractID int64) (app.Contract, error) {
	c, err := o.client.GetContract(ctx, contractID)
	if err != nil {
		return app.Contract{}, oneflowError("the contract", err)
	}
	number, _ := oneflow.DataFieldValue(c, EmployeeNumberField)
	return app.Contract{
		ID:             c.ID,
		Name:           c.Private.Name,
		State:          c.State,
		TemplateID:     c.PrivateOwnerside.TemplateID,
		EmployeeNumber: strings.TrimSpace(number),
	}, nil
}

// TemplateName reads the template's name.
func (o *Oneflow) TemplateName(ctx context.Context, templateID int64) (string, error) {
	t, err := o.client.GetTemplate(ctx, templateID)
	if err != nil {
		return "", oneflowError("the contract's template", err)
	}
	return t.Name, nil
}

// DownloadPDF opens file 1 of the contract. libs/oneflow returns only the
// body; when the client was built with LengthRecordingTransport, the
// storage answer's Content-Length is picked up on the way, so an oversize
// file is refused before a byte is uploaded. Otherwise the size is unknown
// (-1) and the archiver's counting reader enforces the limit.
func (o *Oneflow) DownloadPDF(ctx context.Context, contractID int64) (app.PDF, error) {
	seen := &lengthSeen{size: -1}
	body, err := o.client.DownloadContractFile(context.WithValue(ctx, lengthKey{}, seen), contractID, oneflow.ContractPDFFileID)
	if err != nil {
		return app.PDF{}, oneflowError("the contract PDF", err)
	}
	return app.PDF{Body: body, Size: seen.get()}, nil
}

// LengthRecordingTransport wraps the Oneflow client's base transport: for a
// request whose context DownloadPDF marked, it notes the Content-Length of
// the successful answer (the file itself, after the storage redirect). It
// is this module's small addition to libs/oneflow, whose download does not
// expose the length.
func LengthRecordingTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return lengthTransport{base: base}
}

type lengthKey struct{}

type lengthSeen struct {
	mu   sync.Mutex
	size int64
}

func (l *lengthSeen) get() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

type lengthTransport struct{ base http.RoundTripper }

func (t lengthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if seen, ok := r.Context().Value(lengthKey{}).(*lengthSeen); ok && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		seen.mu.Lock()
		seen.size = resp.ContentLength
		seen.mu.Unlock()
	}
	return resp, nil
}

// oneflowError sorts Oneflow's failures into permanent ones, with a reason
// that says what is wrong, and transient ones, which keep the client's
// (personal-data-free) error.
func oneflowError(what string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), oneflow.IsTransient(err):
		return err // the client's text already names the call and the status
	case errors.Is(err, oneflow.ErrUnauthorized):
		return app.Permanent("Oneflow rejected flexflow's API token or user email", err)
	case errors.Is(err, oneflow.ErrForbidden):
		return app.Permanent(fmt.Sprintf("Oneflow does not let flexflow's user read %s", what), err)
	case errors.Is(err, oneflow.ErrNotFound):
		return app.Permanent(fmt.Sprintf("%s was not found in Oneflow", what), err)
	case errors.Is(err, oneflow.ErrValidation), errors.Is(err, oneflow.ErrConflict), errors.Is(err, oneflow.ErrUnexpected):
		return app.Permanent(fmt.Sprintf("Oneflow refused to give %s", what), err)
	}
	return err
}
