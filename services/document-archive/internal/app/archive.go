package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// MaxDocumentBytes is Flex HRM's upload limit (25 MiB).
const MaxDocumentBytes int64 = 25 << 20

// ArchiveOutcome says what an archive request did.
type ArchiveOutcome int

// The ways an archive request succeeds.
const (
	// Uploaded: the PDF was uploaded now.
	Uploaded ArchiveOutcome = iota + 1
	// AlreadyArchived: a record existed, or Flex HRM already held the
	// document (a crash fell between upload and record); nothing uploaded.
	AlreadyArchived
)

// Request asks for one job: the contract's PDF for a status and generation.
type Request struct {
	Key domain.JobKey
	// Target is the employee from the event; zero for a replay, which
	// then uses what the event stored or, failing that, the contract's
	// employee number.
	Target domain.Target
	// EventType is the Oneflow event type behind the request, for the log.
	EventType string
	// Retry is set by callers that retry transient failures themselves
	// (the event consumer); nil means the caller reports them instead.
	Retry *Attempt
}

// Attempt tells the archiver where a retried job stands, so it can choose
// between "retry in d" and "give up".
type Attempt struct {
	// Number is 1 for the first attempt.
	Number int
	// FirstTry is when the job was first attempted (the event's time).
	FirstTry time.Time
}

// Result is a successful archive.
type Result struct {
	Outcome ArchiveOutcome
	Record  domain.Record
}

// Options tune an Archiver; the zero value of each field picks the
// production default.
type Options struct {
	Retry domain.RetryPolicy
	// MaxDocumentBytes refuses PDFs larger than this; Flex HRM's 25 MiB
	// by default. Only the benchmark raises it.
	MaxDocumentBytes int64
	// AfterUpload runs right after a successful upload and before it is
	// recorded; an error stops the job there, as a crash would. Tests only.
	AfterUpload func(ctx context.Context) error
	Now         func() time.Time
}

// Archiver archives contract PDFs into Flex HRM, once per job.
type Archiver struct {
	oneflow  Oneflow
	flex     FlexHRM
	records  Records
	log      SyncLog
	failures Failures
	lease    Lease
	logger   *slog.Logger
	opts     Options
	locks    keyedMutex
}

// NewArchiver wires the use case; every dependency is required.
func NewArchiver(oneflow Oneflow, flex FlexHRM, records Records, log SyncLog, failures Failures, lease Lease, logger *slog.Logger, opts Options) (*Archiver, error) {
	switch {
	case oneflow == nil:
		return nil, errors.New("app: Oneflow is nil")
	case flex == nil:
		return nil, errors.New("app: FlexHRM is nil")
	case records == nil:
		return nil, errors.New("app: Records is nil")
	case log == nil:
		return nil, errors.New("app: SyncLog is nil")
	case failures == nil:
		return nil, errors.New("app: Failures is nil")
	case lease == nil:
		return nil, errors.New("app: Lease is nil")
	case logger == nil:
		return nil, errors.New("app: logger is nil")
	}
	if opts.Retry == (domain.RetryPolicy{}) {
		opts.Retry = domain.DefaultRetryPolicy()
	}
	if opts.MaxDocumentBytes <= 0 {
		opts.MaxDocumentBytes = MaxDocumentBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Archiver{oneflow: oneflow, flex: flex, records: records, log: log, failures: failures, lease: lease, logger: logger, opts: opts}, nil
}

// RetryPolicy is the policy the archiver applies to transient failures.
func (a *Archiver) RetryPolicy() domain.RetryPolicy { return a.opts.Retry }

// Archive makes sure the job's PDF is in Flex HRM exactly once and records
// the outcome in the contract's sync log. Errors: *PermanentError (recorded
// as FAILED and listed in failures), *RetryError (transient, recorded as a
// WARNING; the caller retries after Delay), a permanent error after the
// retry budget is spent, ErrBusy, ErrHalted, context errors, or a transient
// error when req.Retry is nil.
func (a *Archiver) Archive(ctx context.Context, req Request) (Result, error) {
	if err := req.Key.Validate(); err != nil {
		return Result{}, Permanent("invalid archive request", err)
	}
	res, err := a.archive(ctx, req)
	step := req.Key.Status.Step()
	entry := LogEntry{ContractID: req.Key.ContractID, Step: step, EventType: req.EventType}
	switch {
	case err == nil:
		entry.Outcome, entry.Reason = OutcomeDone, fmt.Sprintf("uploaded as Flex HRM document %s (%d bytes, sha256 %s)", res.Record.FlexDocumentID, res.Record.SizeBytes, res.Record.SHA256)
		if res.Outcome == AlreadyArchived {
			entry.Outcome, entry.Reason = OutcomeSkipped, "already archived"
		}
		a.append(ctx, entry)
		if cerr := a.failures.Clear(ctx, req.Key); cerr != nil {
			a.logger.WarnContext(ctx, "clearing the contract's archive failure", "contract_id", req.Key.ContractID, "error", cerr)
		}
		return res, nil
	case errors.Is(err, ErrBusy), errors.Is(err, ErrHalted), ctx.Err() != nil:
		return Result{}, err
	case IsPermanent(err):
		a.fail(ctx, req, entry, reasonOf(err))
		return Result{}, err
	case req.Retry == nil:
		entry.Outcome, entry.Reason = OutcomeWarning, reasonOf(err)+"; the replay can be tried again"
		a.append(ctx, entry)
		return Result{}, err
	}
	now := a.opts.Now()
	if a.opts.Retry.Exhausted(req.Retry.FirstTry, now) {
		reason := fmt.Sprintf("gave up after retrying for %s: %s", now.Sub(req.Retry.FirstTry).Round(time.Second), reasonOf(err))
		a.fail(ctx, req, entry, reason)
		return Result{}, Permanent(reason, err)
	}
	delay := a.opts.Retry.Delay(req.Retry.Number)
	entry.Outcome, entry.Reason = OutcomeWarning, fmt.Sprintf("%s; attempt %d, retrying in %s", reasonOf(err), req.Retry.Number, delay)
	a.append(ctx, entry)
	return Result{}, &RetryError{Delay: delay, Err: err}
}

func (a *Archiver) fail(ctx context.Context, req Request, entry LogEntry, reason string) {
	entry.Outcome, entry.Reason = OutcomeFailed, reason
	a.append(ctx, entry)
	if err := a.failures.Fail(ctx, Failure{Key: req.Key, Reason: reason, Time: a.opts.Now()}); err != nil {
		a.logger.ErrorContext(ctx, "listing the contract in failures", "contract_id", req.Key.ContractID, "error", err)
	}
}

func (a *Archiver) append(ctx context.Context, e LogEntry) {
	if err := a.log.Append(ctx, e); err != nil {
		a.logger.ErrorContext(ctx, "appending to the sync log", "contract_id", e.ContractID, "step", e.Step, "error", err)
	}
}

func (a *Archiver) archive(ctx context.Context, req Request) (Result, error) {
	key := req.Key
	unlock, err := a.locks.lock(ctx, key)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	release, err := a.lease.Acquire(ctx, key)
	if err != nil {
		return Result{}, err
	}
	defer release()

	if rec, ok, err := a.records.Get(ctx, key); err != nil {
		return Result{}, fmt.Errorf("reading the archive record: %w", err)
	} else if ok {
		return Result{Outcome: AlreadyArchived, Record: rec}, nil
	}

	target, err := a.target(ctx, req)
	if err != nil {
		return Result{}, err
	}
	contract, err := a.oneflow.Contract(ctx, key.ContractID)
	if err != nil {
		return Result{}, fmt.Errorf("reading the contract from Oneflow: %w", err)
	}
	employee, err := a.flex.Employee(ctx, target.FlexEmployeeID)
	if err != nil {
		return Result{}, fmt.Errorf("reading the employee from Flex HRM: %w", err)
	}
	companyID := target.FlexCompanyID
	if companyID == "" {
		companyID = employee.CompanyID
	}
	category, err := a.flex.OneflowCategory(ctx, companyID)
	if err != nil {
		return Result{}, fmt.Errorf("choosing the Oneflow document category: %w", err)
	}
	parts := domain.TitleParts{ContractID: key.ContractID, ContractName: contract.Name, EmployeeName: employee.Name, Status: key.Status}
	if strings.TrimSpace(contract.Name) == "" && contract.TemplateID != 0 {
		if parts.TemplateName, err = a.oneflow.TemplateName(ctx, contract.TemplateID); err != nil {
			return Result{}, fmt.Errorf("reading the contract's template from Oneflow: %w", err)
		}
	}
	title := domain.DocumentTitle(parts)
	rec := domain.Record{Key: key, Title: title, Target: target, CategoryID: category.ID}
	rec.Target.FlexCompanyID = companyID
	upload := Upload{CompanyID: companyID, EmployeeID: target.FlexEmployeeID, CategoryID: category.ID, Title: title, Size: -1}

	// Look before writing: a crash may have fallen between an upload and
	// its record, and uploads are never retried blindly.
	if found, ok, err := a.findUploaded(ctx, key, upload); err != nil {
		return Result{}, err
	} else if ok {
		rec.FlexDocumentID, rec.SizeBytes, rec.ArchivedAt = found.ID, found.SizeBytes, a.opts.Now()
		if err := a.records.Save(ctx, rec); err != nil {
			return Result{}, fmt.Errorf("recording the document found in Flex HRM: %w", err)
		}
		return Result{Outcome: AlreadyArchived, Record: rec}, nil
	}
	if w := stateWarning(key.Status, contract.State); w != "" {
		a.append(ctx, LogEntry{ContractID: key.ContractID, Step: key.Status.Step(), Outcome: OutcomeWarning, Reason: w, EventType: req.EventType})
	}

	doc, sum, size, err := a.stream(ctx, key, upload)
	if err != nil {
		return Result{}, err
	}
	if a.opts.AfterUpload != nil {
		if err := a.opts.AfterUpload(ctx); err != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrHalted, err)
		}
	}
	rec.FlexDocumentID, rec.SHA256, rec.SizeBytes, rec.ArchivedAt = doc.ID, sum, size, a.opts.Now()
	if err := a.records.Save(ctx, rec); err != nil {
		// The document is in Flex HRM; the next attempt finds it there.
		return Result{}, fmt.Errorf("recording the upload of Flex HRM document %s: %w", doc.ID, err)
	}
	return Result{Outcome: Uploaded, Record: rec}, nil
}

// target is the employee the job is for: from the event (and remembered
// for replays), from an earlier event, or from the contract's employee
// number.
func (a *Archiver) target(ctx context.Context, req Request) (domain.Target, error) {
	if req.Target.FlexEmployeeID != "" {
		if err := a.records.SaveTarget(ctx, req.Key, req.Target); err != nil {
			return domain.Target{}, fmt.Errorf("remembering the job's employee: %w", err)
		}
		return req.Target, nil
	}
	if t, ok, err := a.records.Target(ctx, req.Key); err != nil {
		return domain.Target{}, fmt.Errorf("reading the job's employee: %w", err)
	} else if ok {
		return t, nil
	}
	contract, err := a.oneflow.Contract(ctx, req.Key.ContractID)
	if err != nil {
		return domain.Target{}, fmt.Errorf("reading the contract from Oneflow: %w", err)
	}
	if strings.TrimSpace(contract.EmployeeNumber) == "" {
		return domain.Target{}, Permanent("the contract has no employee number", nil)
	}
	employee, err := a.flex.FindEmployee(ctx, contract.EmployeeNumber)
	if err != nil {
		return domain.Target{}, fmt.Errorf("finding the contract's employee in Flex HRM: %w", err)
	}
	t := domain.Target{EmployeeNumber: strings.TrimSpace(contract.EmployeeNumber), FlexEmployeeID: employee.ID, FlexCompanyID: employee.CompanyID}
	if err := a.records.SaveTarget(ctx, req.Key, t); err != nil {
		return domain.Target{}, fmt.Errorf("remembering the job's employee: %w", err)
	}
	return t, nil
}

// findUploaded looks in Flex HRM for a document this job uploaded before
// its record was written.
func (a *Archiver) findUploaded(ctx context.Context, key domain.JobKey, u Upload) (domain.FlexDocument, bool, error) {
	docs, err := a.flex.Documents(ctx, u.CompanyID, u.EmployeeID, u.CategoryID)
	if err != nil {
		return domain.FlexDocument{}, false, fmt.Errorf("listing the employee's documents in Flex HRM: %w", err)
	}
	claims := map[string]domain.JobKey{}
	for _, d := range docs {
		if d.Title != u.Title {
			continue
		}
		owner, ok, err := a.records.ClaimedBy(ctx, d.ID)
		if err != nil {
			return domain.FlexDocument{}, false, fmt.Errorf("reading the claim on a Flex HRM document: %w", err)
		}
		if ok {
			claims[d.ID] = owner
		}
	}
	found, ok := domain.FindUnclaimed(docs, u.Title, claims, key)
	return found, ok, nil
}

// stream pipes Oneflow's download into Flex HRM's upload: it checks the
// `%PDF-` magic and the size limit on the way and hashes and counts the
// bytes, holding no more than a small buffer of the file in memory.
func (a *Archiver) stream(ctx context.Context, key domain.JobKey, u Upload) (domain.FlexDocument, string, int64, error) {
	limit := a.opts.MaxDocumentBytes
	pdf, err := a.oneflow.DownloadPDF(ctx, key.ContractID)
	if err != nil {
		return domain.FlexDocument{}, "", 0, fmt.Errorf("downloading the contract PDF from Oneflow: %w", err)
	}
	defer pdf.Body.Close()
	if pdf.Size > limit {
		return domain.FlexDocument{}, "", 0, Permanent(tooLargeReason(pdf.Size, limit), nil)
	}
	br := bufio.NewReaderSize(pdf.Body, 32<<10)
	head, err := br.Peek(len(pdfMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return domain.FlexDocument{}, "", 0, fmt.Errorf("reading the contract PDF from Oneflow: %w", err)
	}
	if !bytes.Equal(head, pdfMagic) {
		return domain.FlexDocument{}, "", 0, Permanent("Oneflow's file 1 of the contract is not a PDF (it does not start with %PDF-)", nil)
	}
	u.Size = max(pdf.Size, -1)
	body := &meteredReader{r: br, limit: limit, hash: sha256.New()}
	doc, err := a.flex.UploadDocument(ctx, u, body)
	switch {
	case body.tooLarge:
		reason := tooLargeReason(body.n, limit)
		// The upload was cut off; say so if Flex HRM kept something anyway,
		// so nobody has to guess where a stray document came from.
		if found, ok, ferr := a.findUploaded(ctx, key, u); ferr == nil && ok {
			reason += fmt.Sprintf("; Flex HRM kept a partial document %s that should be deleted", found.ID)
		}
		return domain.FlexDocument{}, "", 0, Permanent(reason, err)
	case body.readErr != nil:
		return domain.FlexDocument{}, "", 0, fmt.Errorf("reading the contract PDF from Oneflow while uploading: %w", body.readErr)
	case err != nil:
		return domain.FlexDocument{}, "", 0, fmt.Errorf("uploading the PDF to Flex HRM: %w", err)
	case !body.eof:
		return domain.FlexDocument{}, "", 0, Permanent(fmt.Sprintf("Flex HRM accepted document %s before reading the whole PDF", doc.ID), nil)
	}
	return doc, hex.EncodeToString(body.hash.Sum(nil)), body.n, nil
}

var pdfMagic = []byte("%PDF-")

func tooLargeReason(size, limit int64) string {
	return fmt.Sprintf("the contract PDF is larger than Flex HRM's limit of %s (%s seen); not uploaded", mib(limit), mib(size))
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// stateWarning explains a PDF archived for a status the contract has left:
// the file shows the contract as it is now.
func stateWarning(status domain.Status, state string) string {
	switch {
	case state == "":
		return ""
	case status == domain.StatusPending && state != "pending" && state != "overdue":
		return fmt.Sprintf("the contract was already %s when its Pending PDF was archived; the file shows that state", state)
	case status == domain.StatusSigned && state != "signed":
		return fmt.Sprintf("the contract is %s in Oneflow while its Signed PDF is archived", state)
	}
	return ""
}

// meteredReader counts and hashes what passes and stops with an error as
// soon as more than limit bytes came through, so an oversize file never
// reaches Flex HRM whole.
type meteredReader struct {
	r        io.Reader
	limit    int64
	hash     hash.Hash
	n        int64
	eof      bool
	tooLarge bool
	readErr  error
}

var errTooLarge = errors.New("contract PDF over the size limit")

func (m *meteredReader) Read(p []byte) (int, error) {
	if m.tooLarge {
		return 0, errTooLarge
	}
	n, err := m.r.Read(p)
	if m.n+int64(n) > m.limit {
		m.n += int64(n)
		m.tooLarge = true
		return 0, errTooLarge
	}
	m.n += int64(n)
	m.hash.Write(p[:n])
	switch {
	case errors.Is(err, io.EOF):
		m.eof = true
	case err != nil:
		m.readErr = err
	}
	return n, err
}

// keyedMutex serialises work on one job inside this process, so a replay
// and an event for the same job never race; the lease does the same across
// processes.
type keyedMutex struct {
	mu   sync.Mutex
	held map[domain.JobKey]chan struct{}
}

func (k *keyedMutex) lock(ctx context.Context, key domain.JobKey) (func(), error) {
	for {
		k.mu.Lock()
		if k.held == nil {
			k.held = map[domain.JobKey]chan struct{}{}
		}
		wait, busy := k.held[key]
		if !busy {
			done := make(chan struct{})
			k.held[key] = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(done)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
