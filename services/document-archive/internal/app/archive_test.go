package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

const contractID = 4711

var (
	pendingKey = domain.JobKey{ContractID: contractID, Status: domain.StatusPending}
	signedKey  = domain.JobKey{ContractID: contractID, Status: domain.StatusSigned}
	target     = domain.Target{EmployeeNumber: "1001", FlexEmployeeID: "emp-1", FlexCompanyID: "co-1"}
	samplePDF  = []byte("%PDF-1.4\n% a small but real-looking PDF body\n%%EOF\n")
)

type world struct {
	oneflow  *fakeOneflow
	flex     *fakeFlex
	records  *memRecords
	log      *memLog
	failures *memFailures
	archiver *app.Archiver
	now      time.Time
}

func newWorld(t *testing.T, opts app.Options) *world {
	t.Helper()
	w := &world{
		oneflow: &fakeOneflow{
			contracts: map[int64]app.Contract{contractID: {ID: contractID, Name: "Anställningsavtal", State: "pending", TemplateID: 9, EmployeeNumber: "1001"}},
			templates: map[int64]string{9: "Tillsvidare"},
			pdf:       samplePDF,
		},
		flex: &fakeFlex{
			employees:  map[string]app.Employee{"emp-1": {ID: "emp-1", CompanyID: "co-1", Name: "Anna Lindström"}},
			byNumber:   map[string]string{"1001": "emp-1"},
			categories: map[string]app.Category{"co-1": {ID: "cat-1", Name: "Oneflow Documents"}},
		},
		records:  newMemRecords(),
		log:      &memLog{},
		failures: &memFailures{},
		now:      time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC),
	}
	if opts.Retry == (domain.RetryPolicy{}) {
		opts.Retry = domain.RetryPolicy{Initial: time.Second, Max: 8 * time.Second, Budget: time.Minute}
	}
	opts.Now = func() time.Time { return w.now }
	a, err := app.NewArchiver(w.oneflow, w.flex, w.records, w.log, w.failures, noLease{}, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	w.archiver = a
	return w
}

func (w *world) archive(t *testing.T, key domain.JobKey) (app.Result, error) {
	t.Helper()
	return w.archiver.Archive(context.Background(), app.Request{Key: key, Target: target, EventType: "contract:publish", Retry: &app.Attempt{Number: 1, FirstTry: w.now}})
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestArchiveUploadsOnce(t *testing.T) {
	t.Run("first_publish_uploads_one_pending_document_named_by_the_rule", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		res, err := w.archive(t, pendingKey)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != app.Uploaded || res.Record.Title != "Anställningsavtal - Pending.pdf" || res.Record.CategoryID != "cat-1" {
			t.Fatalf("result = %+v", res)
		}
		if res.Record.SHA256 != sum(samplePDF) || res.Record.SizeBytes != int64(len(samplePDF)) {
			t.Fatalf("record hash/size = %s/%d, want %s/%d", res.Record.SHA256, res.Record.SizeBytes, sum(samplePDF), len(samplePDF))
		}
		if !bytes.Equal(w.flex.bodies[res.Record.FlexDocumentID], samplePDF) {
			t.Fatal("Flex HRM holds other bytes than Oneflow served")
		}
		if got := w.log.last(); got.Outcome != app.OutcomeDone || got.Step != "upload_pending" {
			t.Fatalf("log = %+v", got)
		}
	})
	t.Run("the_same_job_again_is_skipped_as_already_archived", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		for range 5 {
			if _, err := w.archive(t, pendingKey); err != nil {
				t.Fatal(err)
			}
		}
		if w.flex.uploads != 1 {
			t.Fatalf("%d uploads, want 1", w.flex.uploads)
		}
		if got := w.log.last(); got.Outcome != app.OutcomeSkipped || got.Reason != "already archived" {
			t.Fatalf("log = %+v", got)
		}
	})
	t.Run("signed_after_pending_adds_a_second_document", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		if _, err := w.archive(t, pendingKey); err != nil {
			t.Fatal(err)
		}
		w.oneflow.contracts[contractID] = app.Contract{ID: contractID, Name: "Anställningsavtal", State: "signed"}
		res, err := w.archive(t, signedKey)
		if err != nil {
			t.Fatal(err)
		}
		if res.Record.Title != "Anställningsavtal - Signed.pdf" || len(w.flex.docs) != 2 {
			t.Fatalf("title %q, %d documents", res.Record.Title, len(w.flex.docs))
		}
	})
	t.Run("unnamed_contract_is_titled_by_employee_and_template", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		w.oneflow.contracts[contractID] = app.Contract{ID: contractID, State: "pending", TemplateID: 9}
		res, err := w.archive(t, pendingKey)
		if err != nil {
			t.Fatal(err)
		}
		if want := "Anna Lindström - Tillsvidare - Pending.pdf"; res.Record.Title != want {
			t.Fatalf("title %q, want %q", res.Record.Title, want)
		}
	})
	t.Run("concurrent_requests_for_one_job_upload_once", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := w.archive(t, pendingKey); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if w.flex.uploads != 1 {
			t.Fatalf("%d uploads, want 1", w.flex.uploads)
		}
	})
}

func TestArchiveRecoversFromCrashes(t *testing.T) {
	t.Run("crash_between_upload_and_record_is_found_in_flex_and_not_uploaded_again", func(t *testing.T) {
		halt := true
		w := newWorld(t, app.Options{AfterUpload: func(context.Context) error {
			if halt {
				return errors.New("killed")
			}
			return nil
		}})
		if _, err := w.archive(t, pendingKey); !errors.Is(err, app.ErrHalted) {
			t.Fatalf("err = %v, want ErrHalted", err)
		}
		halt = false
		res, err := w.archive(t, pendingKey)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != app.AlreadyArchived || w.flex.uploads != 1 || res.Record.FlexDocumentID != "doc-1" {
			t.Fatalf("outcome %v, %d uploads, record %+v", res.Outcome, w.flex.uploads, res.Record)
		}
	})
	t.Run("upload_answered_with_an_error_after_storing_is_found_on_retry", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		w.flex.uploadThenFail = 1
		if _, err := w.archive(t, pendingKey); err == nil {
			t.Fatal("want a retry")
		}
		if _, err := w.archive(t, pendingKey); err != nil {
			t.Fatal(err)
		}
		if w.flex.uploads != 1 {
			t.Fatalf("%d uploads, want 1", w.flex.uploads)
		}
	})
	t.Run("a_new_generation_uploads_a_new_pending_despite_the_same_title", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		if _, err := w.archive(t, pendingKey); err != nil {
			t.Fatal(err)
		}
		next := pendingKey
		next.Generation = 1
		res, err := w.archive(t, next)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != app.Uploaded || w.flex.uploads != 2 {
			t.Fatalf("outcome %v, %d uploads; want a second upload", res.Outcome, w.flex.uploads)
		}
	})
	t.Run("another_contract_with_the_same_name_does_not_take_this_document", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		if _, err := w.archive(t, pendingKey); err != nil {
			t.Fatal(err)
		}
		other := domain.JobKey{ContractID: 4712, Status: domain.StatusPending}
		w.oneflow.contracts[4712] = app.Contract{ID: 4712, Name: "Anställningsavtal", State: "pending"}
		res, err := w.archive(t, other)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != app.Uploaded || w.flex.uploads != 2 {
			t.Fatalf("outcome %v, %d uploads; want its own upload", res.Outcome, w.flex.uploads)
		}
	})
}

func TestArchiveFailures(t *testing.T) {
	t.Run("company_without_oneflow_category_fails_and_a_replay_after_adding_it_succeeds", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		delete(w.flex.categories, "co-1")
		_, err := w.archive(t, pendingKey)
		if !app.IsPermanent(err) {
			t.Fatalf("err = %v, want permanent", err)
		}
		if reason, ok := w.failures.reason(pendingKey); !ok || !strings.Contains(reason, "no Oneflow document category in company co-1") {
			t.Fatalf("failure = %q, %v", reason, ok)
		}
		if got := w.log.last(); got.Outcome != app.OutcomeFailed {
			t.Fatalf("log = %+v", got)
		}
		if w.flex.uploads != 0 || w.oneflow.downloads != 0 {
			t.Fatal("something was downloaded or uploaded")
		}
		w.flex.categories["co-1"] = app.Category{ID: "cat-9", Name: "Oneflow"}
		res, err := w.archiver.Archive(context.Background(), app.Request{Key: pendingKey})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != app.Uploaded || res.Record.CategoryID != "cat-9" {
			t.Fatalf("replay result %+v", res)
		}
		if _, ok := w.failures.reason(pendingKey); ok {
			t.Fatal("failure not cleared")
		}
	})
	t.Run("transient_upload_failures_are_retried_with_growing_delays_after_looking_first", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		w.flex.uploadErrs = 3
		var delays []time.Duration
		for attempt := 1; ; attempt++ {
			_, err := w.archiver.Archive(context.Background(), app.Request{Key: pendingKey, Target: target, Retry: &app.Attempt{Number: attempt, FirstTry: w.now}})
			var retry *app.RetryError
			if errors.As(err, &retry) {
				delays = append(delays, retry.Delay)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
		if len(delays) != len(want) || delays[0] != want[0] || delays[2] != want[2] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
		if w.flex.uploads != 1 {
			t.Fatalf("%d uploads, want 1", w.flex.uploads)
		}
		got := w.log.outcomes()
		if len(got) != 4 || got[0] != app.OutcomeWarning || got[3] != app.OutcomeDone {
			t.Fatalf("log outcomes %v, want three warnings then done", got)
		}
	})
	t.Run("transient_failures_past_the_budget_fail_the_contract", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		w.oneflow.downloadErrs = 1
		first := w.now
		w.now = w.now.Add(2 * time.Minute)
		_, err := w.archiver.Archive(context.Background(), app.Request{Key: pendingKey, Target: target, Retry: &app.Attempt{Number: 9, FirstTry: first}})
		if !app.IsPermanent(err) {
			t.Fatalf("err = %v, want permanent after the budget", err)
		}
		if reason, ok := w.failures.reason(pendingKey); !ok || !strings.HasPrefix(reason, "gave up after retrying for 2m0s") {
			t.Fatalf("failure %q, %v", reason, ok)
		}
	})
	t.Run("replay_without_retry_reports_a_transient_failure_as_a_warning", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		w.oneflow.downloadErrs = 1
		_, err := w.archiver.Archive(context.Background(), app.Request{Key: pendingKey, Target: target})
		var retry *app.RetryError
		if err == nil || app.IsPermanent(err) || errors.As(err, &retry) {
			t.Fatalf("err = %v, want a plain transient error", err)
		}
		if got := w.log.last(); got.Outcome != app.OutcomeWarning {
			t.Fatalf("log %+v", got)
		}
	})
}

func TestArchiveRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name     string
		pdf      []byte
		hideSize bool
		reason   string
	}{
		{name: "bytes_that_are_not_a_pdf_are_refused", pdf: []byte("<html>login</html>"), reason: "is not a PDF"},
		{name: "an_empty_file_is_refused", pdf: nil, reason: "is not a PDF"},
		{name: "a_declared_size_over_the_limit_is_refused_before_uploading", pdf: append([]byte("%PDF-1.7\n"), make([]byte, 2048)...), reason: "larger than Flex HRM's limit"},
		{name: "an_unknown_size_over_the_limit_is_cut_off_while_streaming", pdf: append([]byte("%PDF-1.7\n"), make([]byte, 2048)...), hideSize: true, reason: "larger than Flex HRM's limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, app.Options{MaxDocumentBytes: 1024})
			w.oneflow.pdf, w.oneflow.hideSize = tt.pdf, tt.hideSize
			_, err := w.archive(t, pendingKey)
			if !app.IsPermanent(err) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want permanent %q", err, tt.reason)
			}
			if len(w.flex.docs) != 0 {
				t.Fatalf("%d documents stored", len(w.flex.docs))
			}
		})
	}
}

func TestArchiveFindsTheEmployeeForAReplay(t *testing.T) {
	t.Run("replay_uses_the_employee_the_event_named", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		delete(w.flex.categories, "co-1")
		_, _ = w.archive(t, pendingKey)
		w.flex.categories["co-1"] = app.Category{ID: "cat-1"}
		delete(w.flex.byNumber, "1001") // a lookup by number would fail
		res, err := w.archiver.Archive(context.Background(), app.Request{Key: pendingKey})
		if err != nil || res.Record.Target != target {
			t.Fatalf("res %+v, err %v", res.Record.Target, err)
		}
	})
	t.Run("replay_of_a_job_no_event_named_uses_the_contract_employee_number", func(t *testing.T) {
		w := newWorld(t, app.Options{})
		res, err := w.archiver.Archive(context.Background(), app.Request{Key: pendingKey})
		if err != nil || res.Record.Target != target {
			t.Fatalf("res %+v, err %v", res.Record.Target, err)
		}
	})
}

func TestListDocuments(t *testing.T) {
	w := newWorld(t, app.Options{})
	if _, err := w.archive(t, pendingKey); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(time.Minute)
	if _, err := w.archive(t, signedKey); err != nil {
		t.Fatal(err)
	}
	l, err := app.NewLister(w.records)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		q       app.DocumentQuery
		want    []domain.JobKey
		wantErr error
	}{
		{name: "by_contract_oldest_first", q: app.DocumentQuery{ContractID: contractID}, want: []domain.JobKey{pendingKey, signedKey}},
		{name: "by_employee_number", q: app.DocumentQuery{EmployeeNumber: " 1001 "}, want: []domain.JobKey{pendingKey, signedKey}},
		{name: "unknown_employee_gives_nothing", q: app.DocumentQuery{EmployeeNumber: "9999"}},
		{name: "neither_selector_is_refused", q: app.DocumentQuery{}, wantErr: app.ErrInvalidQuery},
		{name: "both_selectors_are_refused", q: app.DocumentQuery{ContractID: 1, EmployeeNumber: "1"}, wantErr: app.ErrInvalidQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.ListDocuments(context.Background(), tt.q)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d records, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].Key != tt.want[i] {
					t.Fatalf("record %d is %v, want %v", i, got[i].Key, tt.want[i])
				}
			}
		})
	}
}

func TestNewArchiverRefusesNilDependencies(t *testing.T) {
	if _, err := app.NewArchiver(nil, &fakeFlex{}, newMemRecords(), &memLog{}, &memFailures{}, noLease{}, slog.New(slog.DiscardHandler), app.Options{}); err == nil {
		t.Fatal("nil Oneflow accepted")
	}
	if _, err := app.NewLister(nil); err == nil {
		t.Fatal("nil Records accepted")
	}
}
