package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// The fakes below are in-memory stand-ins for the ports, used to test the
// use case's decisions; the adapters are tested against the real sandboxes
// and NATS in the service tests.

var errUnavailable = errors.New("upstream answered 503")

type fakeOneflow struct {
	mu           sync.Mutex
	contracts    map[int64]app.Contract
	templates    map[int64]string
	pdf          []byte
	hideSize     bool
	downloads    int
	downloadErrs int
}

func (f *fakeOneflow) Contract(_ context.Context, id int64) (app.Contract, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contracts[id]
	if !ok {
		return app.Contract{}, app.Permanent("contract not found in Oneflow", nil)
	}
	return c, nil
}

func (f *fakeOneflow) TemplateName(_ context.Context, id int64) (string, error) {
	return f.templates[id], nil
}

func (f *fakeOneflow) DownloadPDF(context.Context, int64) (app.PDF, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.downloads++
	if f.downloadErrs > 0 {
		f.downloadErrs--
		return app.PDF{}, errUnavailable
	}
	size := int64(len(f.pdf))
	if f.hideSize {
		size = -1
	}
	return app.PDF{Body: io.NopCloser(bytes.NewReader(f.pdf)), Size: size}, nil
}

type fakeFlex struct {
	mu         sync.Mutex
	employees  map[string]app.Employee
	byNumber   map[string]string
	categories map[string]app.Category
	docs       []domain.FlexDocument
	bodies     map[string][]byte
	uploads    int
	uploadErrs int
	// uploadThenFail stores the document and then answers an error, as
	// a connection lost after Flex HRM stored it would.
	uploadThenFail int
}

func (f *fakeFlex) Employee(_ context.Context, id string) (app.Employee, error) {
	e, ok := f.employees[id]
	if !ok {
		return app.Employee{}, app.Permanent("employee not found in Flex HRM", nil)
	}
	return e, nil
}

func (f *fakeFlex) FindEmployee(ctx context.Context, number string) (app.Employee, error) {
	id, ok := f.byNumber[number]
	if !ok {
		return app.Employee{}, app.Permanent("employee not found in Flex HRM", nil)
	}
	return f.Employee(ctx, id)
}

func (f *fakeFlex) OneflowCategory(_ context.Context, companyID string) (app.Category, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.categories[companyID]
	if !ok {
		return app.Category{}, app.Permanent("no Oneflow document category in company "+companyID, nil)
	}
	return c, nil
}

func (f *fakeFlex) Documents(_ context.Context, companyID, employeeID, categoryID string) ([]domain.FlexDocument, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]domain.FlexDocument(nil), f.docs...), nil
}

func (f *fakeFlex) UploadDocument(_ context.Context, u app.Upload, body io.Reader) (domain.FlexDocument, error) {
	f.mu.Lock()
	if f.uploadErrs > 0 {
		f.uploadErrs--
		f.mu.Unlock()
		return domain.FlexDocument{}, errUnavailable
	}
	f.mu.Unlock()
	b, err := io.ReadAll(body)
	if err != nil {
		return domain.FlexDocument{}, fmt.Errorf("reading the upload: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads++
	d := domain.FlexDocument{ID: fmt.Sprintf("doc-%d", len(f.docs)+1), Title: u.Title, CategoryID: u.CategoryID, SizeBytes: int64(len(b))}
	f.docs = append(f.docs, d)
	if f.bodies == nil {
		f.bodies = map[string][]byte{}
	}
	f.bodies[d.ID] = b
	if f.uploadThenFail > 0 {
		f.uploadThenFail--
		return domain.FlexDocument{}, errUnavailable
	}
	return d, nil
}

type memRecords struct {
	mu      sync.Mutex
	recs    map[domain.JobKey]domain.Record
	claims  map[string]domain.JobKey
	targets map[domain.JobKey]domain.Target
}

func newMemRecords() *memRecords {
	return &memRecords{recs: map[domain.JobKey]domain.Record{}, claims: map[string]domain.JobKey{}, targets: map[domain.JobKey]domain.Target{}}
}

func (m *memRecords) Get(_ context.Context, k domain.JobKey) (domain.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[k]
	return r, ok, nil
}

func (m *memRecords) ClaimedBy(_ context.Context, id string) (domain.JobKey, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.claims[id]
	return k, ok, nil
}

func (m *memRecords) Save(_ context.Context, r domain.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims[r.FlexDocumentID] = r.Key
	m.recs[r.Key] = r
	return nil
}

func (m *memRecords) ByContract(_ context.Context, id int64) ([]domain.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []domain.Record
	for k, r := range m.recs {
		if k.ContractID == id {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memRecords) ByEmployee(_ context.Context, number string) ([]domain.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []domain.Record
	for _, r := range m.recs {
		if r.Target.EmployeeNumber == number {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memRecords) SaveTarget(_ context.Context, k domain.JobKey, t domain.Target) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.targets[k] = t
	return nil
}

func (m *memRecords) Target(_ context.Context, k domain.JobKey) (domain.Target, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.targets[k]
	return t, ok, nil
}

type memLog struct {
	mu      sync.Mutex
	entries []app.LogEntry
}

func (m *memLog) Append(_ context.Context, e app.LogEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

func (m *memLog) outcomes() []app.Outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []app.Outcome
	for _, e := range m.entries {
		out = append(out, e.Outcome)
	}
	return out
}

func (m *memLog) last() app.LogEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) == 0 {
		return app.LogEntry{}
	}
	return m.entries[len(m.entries)-1]
}

type memFailures struct {
	mu     sync.Mutex
	failed map[domain.JobKey]string
}

func (m *memFailures) Fail(_ context.Context, f app.Failure) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed == nil {
		m.failed = map[domain.JobKey]string{}
	}
	m.failed[f.Key] = f.Reason
	return nil
}

func (m *memFailures) Clear(_ context.Context, k domain.JobKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failed, k)
	return nil
}

func (m *memFailures) reason(k domain.JobKey) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.failed[k]
	return r, ok
}

type noLease struct{}

func (noLease) Acquire(context.Context, domain.JobKey) (func(), error) { return func() {}, nil }
