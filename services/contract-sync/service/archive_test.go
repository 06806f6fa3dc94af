package service_test

import (
	"strings"
	"testing"

	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
)

func documentTitles(e *testenv.Env) []string {
	var out []string
	for _, d := range e.Flex.State().Documents {
		out = append(out, d.Title)
	}
	return out
}

func TestPublishAndSignArchiveBothPDFsAndAReplayAsksDocumentArchiveWithoutUploadingAgain(t *testing.T) {
	e := testenv.New(t, testenv.Options{Archive: true})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	if err := e.Oneflow.Publish(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if err := e.Oneflow.SignAll(id); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	e.Eventually("both PDFs in Flex HRM", func() bool { return len(documentTitles(e)) == 2 })
	titles := strings.Join(documentTitles(e), " | ")
	if !strings.Contains(titles, "Pending.pdf") || !strings.Contains(titles, "Signed.pdf") {
		t.Errorf("documents = %s", titles)
	}

	replay(t, e, id)
	e.Idle()
	entries := e.Sync(id).GetEntries()
	if hasStep(entries, "archive_pending", eventsv1.Outcome_OUTCOME_SKIPPED) == nil ||
		hasStep(entries, "archive_signed", eventsv1.Outcome_OUTCOME_SKIPPED) == nil {
		t.Errorf("replay did not check both documents: %v", entries)
	}
	if n := len(documentTitles(e)); n != 2 {
		t.Errorf("documents after replay = %d, want 2", n)
	}
	if n := flexCount(e, "PUT", "P3"); n != 0 {
		t.Errorf("replay of an in-sync contract wrote the employee %d times", n)
	}
}
