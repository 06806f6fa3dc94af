package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flexflow/flexflow/deploy/internal/runner"
	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/oneflow"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
)

// TestEveryPendingAndSignedPDFLandsInFlexHRMOnceThroughTheWholePath plays
// contracts through the real path: the Oneflow sandbox's signed webhooks →
// gateway → contract-sync → NATS → document-archive → Flex HRM sandbox, and
// asserts on what the Flex HRM sandbox stored.
func TestEveryPendingAndSignedPDFLandsInFlexHRMOnceThroughTheWholePath(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{ServiceEnv: shortRetries()})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	create := func(t *testing.T, employee string) int64 {
		t.Helper()
		var c struct {
			ID int64 `json:"id"`
		}
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts", map[string]any{"template_id": 11, "employee_number": employee}, &c))
		return c.ID
	}
	waitFor := func(t *testing.T, what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen within a minute\n%s", what, s.logTail(40))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	syncOf := func(id int64) *contractsyncv1.GetContractSyncResponse {
		resp, err := s.sync.GetContractSync(s.authed(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: id})
		if err != nil {
			return nil
		}
		return resp
	}
	fetched := func(id int64) func() bool {
		return func() bool {
			r := syncOf(id)
			return r != nil && slices.Contains(r.GetSync().GetCompletedFlows(), "fetch")
		}
	}
	docsOf := func(id int64) []*documentarchivev1.ArchivedDocument {
		resp, err := s.archive.ListDocuments(s.authed(ctx), &documentarchivev1.ListDocumentsRequest{ContractId: id})
		if err != nil {
			return nil
		}
		return resp.GetDocuments()
	}
	hasDoc := func(id int64, st documentarchivev1.DocumentStatus) func() bool {
		return func() bool {
			for _, d := range docsOf(id) {
				if d.GetStatus() == st {
					return true
				}
			}
			return false
		}
	}
	flexDocsTitled := func(prefix string) []string {
		var out []string
		for _, d := range s.flexState(ctx).Documents {
			if strings.HasPrefix(d.Title, prefix) {
				out = append(out, d.Title+"|"+d.SHA256+"|"+d.DocumentCategoryID)
			}
		}
		return out
	}
	sandboxPDF := func(t *testing.T, id int64) string {
		t.Helper()
		c, err := oneflow.New(oneflow.Options{BaseURL: s.oneflowURL + runner.OneflowSandboxRoot, Token: runner.OneflowSandboxToken,
			UserEmail: runner.OneflowSandboxUserEmail, Logger: slog.New(slog.DiscardHandler)})
		s.must(err)
		body, err := c.DownloadContractFile(ctx, id, oneflow.ContractPDFFileID)
		s.must(err)
		defer body.Close()
		sum := sha256.New()
		_, err = io.Copy(sum, body)
		s.must(err)
		return hex.EncodeToString(sum.Sum(nil))
	}

	t.Run("publish_then_sign_archives_one_pending_and_one_signed_pdf_with_the_sandbox_bytes", func(t *testing.T) {
		id := create(t, "1001")
		waitFor(t, "fetch", fetched(id))
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa(id)+"/publish", nil, nil))
		waitFor(t, "Pending archived", hasDoc(id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING))
		pending := flexDocsTitled("Anna Lindström - Employment contract (email) - Pending.pdf")
		want := sandboxPDF(t, id)
		if len(pending) != 1 || !strings.Contains(pending[0], "|"+want+"|") {
			t.Fatalf("Pending in Flex HRM: %v; want one with the sandbox PDF's SHA-256 %s", pending, want)
		}
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa(id)+"/sign", map[string]any{}, nil))
		waitFor(t, "Signed archived", hasDoc(id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED))
		if got := docsOf(id); len(got) != 2 {
			t.Fatalf("%d archive records, want Pending and Signed", len(got))
		}
		if signed := flexDocsTitled("Anna Lindström - Employment contract (email) - Signed.pdf"); len(signed) != 1 {
			t.Fatalf("Signed documents in Flex HRM: %v", signed)
		}
		if again := flexDocsTitled("Anna Lindström - Employment contract (email) - Pending.pdf"); len(again) != 1 {
			t.Fatalf("the Pending document must stay, once: %v", again)
		}
	})

	t.Run("a_230_character_contract_name_becomes_a_200_character_title_ending_in_signed", func(t *testing.T) {
		id := create(t, "1002")
		waitFor(t, "fetch", fetched(id))
		long := strings.Repeat("Anställningsavtal för projektledning ", 7)[:230]
		s.must(s.oneflow(ctx, http.MethodPut, "/_sandbox/contracts/"+itoa(id)+"/name", map[string]any{"name": long}, nil))
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa(id)+"/publish", nil, nil))
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa(id)+"/sign", map[string]any{}, nil))
		waitFor(t, "Signed archived", hasDoc(id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED))
		for _, d := range docsOf(id) {
			if d.GetStatus() != documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED {
				continue
			}
			if n := utf8.RuneCountInString(d.GetTitle()); n != 200 || !strings.HasSuffix(d.GetTitle(), " - Signed.pdf") || !utf8.ValidString(d.GetTitle()) {
				t.Fatalf("title %q has %d characters", d.GetTitle(), n)
			}
		}
	})

	t.Run("a_company_without_an_oneflow_category_fails_clearly_and_a_replay_after_adding_it_uploads", func(t *testing.T) {
		id := create(t, "3001")
		waitFor(t, "fetch", fetched(id))
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa(id)+"/publish", nil, nil))
		var reason string
		waitFor(t, "the failure", func() bool {
			fs, err := s.failures(ctx)
			if err != nil {
				return false
			}
			for _, f := range fs {
				if f.GetContractId() == id {
					reason = f.GetReason()
					return true
				}
			}
			return false
		})
		if !strings.Contains(reason, "no Oneflow document category in company") {
			t.Fatalf("failure reason %q", reason)
		}
		if r := syncOf(id); r == nil || !logHas(r, "no Oneflow document category in company") {
			t.Fatal("the sync log does not say which category is missing")
		}
		if len(docsOf(id)) != 0 {
			t.Fatal("something was archived without a category")
		}
		// Employee 3001 works in the seed's company C, the one without an
		// "Oneflow…" category.
		s.must(s.flex(ctx, http.MethodPost, "/_sandbox/categories", map[string]any{"companyId": flexsandbox.CompanyC, "name": "Oneflow Documents", "usedInEmploymentRegister": true}, nil))
		if _, err := s.sync.ReplayContract(s.authed(ctx), &contractsyncv1.ReplayContractRequest{ContractId: id}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "Pending archived after replay", hasDoc(id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING))
		waitFor(t, "the failure cleared", func() bool {
			fs, err := s.failures(ctx)
			if err != nil {
				return false
			}
			for _, f := range fs {
				if f.GetContractId() == id {
					return false
				}
			}
			return true
		})
	})

	t.Run("flex_hrm_answering_503_three_times_on_upload_still_uploads_once", func(t *testing.T) {
		id := create(t, "1003")
		waitFor(t, "fetch", fetched(id))
		s.must(s.flex(ctx, http.MethodPost, "/_sandbox/fail-next", map[string]any{"pathId": "P10", "count": 3, "status": 503}, nil))
		s.must(s.oneflow(ctx, http.MethodPost, "/_sandbox/contracts/"+itoa(id)+"/publish", nil, nil))
		waitFor(t, "Pending archived", hasDoc(id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING))
		title := docsOf(id)[0].GetTitle()
		if got := flexDocsTitled(title); len(got) != 1 {
			t.Fatalf("%d documents titled %q after three 503s, want 1", len(got), title)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func logHas(r *contractsyncv1.GetContractSyncResponse, text string) bool {
	for _, e := range r.GetEntries() {
		if strings.Contains(e.GetReason(), text) {
			return true
		}
	}
	return false
}
