package flexhrm_test

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/contracttest"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// TestNoGoroutineOutlivesTheCalls: reads, retries and a streamed upload
// leave nothing running once the client's idle connections are closed and
// the sandbox is stopped.
func TestNoGoroutineOutlivesTheCalls(t *testing.T) {
	before := goleak.IgnoreCurrent()
	srv := sandbox.New(sandbox.DefaultSeed())
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, url)
	_ = srv.FailNext(sandbox.FailRule{PathID: "P1", Count: 2, Status: 503})
	if _, err := c.FindEmployee(t.Context(), sandbox.EmploymentNumberAnna, ""); err != nil {
		t.Fatal(err)
	}
	pdf := contracttest.MinimalPDF("leak")
	if _, err := c.UploadEmployeeDocument(t.Context(), flexhrm.UploadRequest{EmployeeID: sandbox.EmployeeAnna, CategoryID: sandbox.CategoryOneflowA,
		Title: "leak.pdf", PDF: bytes.NewReader(pdf), Size: -1}); err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	srv.Close()
	goleak.VerifyNone(t, before)
}
