package flexhrm_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/contracttest"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// syncBuffer is a log sink safe for the client's concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNoPersonalDataOrSecretsLeak runs calls that carry personal data in
// queries, bodies and answers, failing and succeeding, and checks that no
// error, log line (at debug level) or span attribute shows any of it.
func TestNoPersonalDataOrSecretsLeak(t *testing.T) {
	srv, url := startSandbox(t, sandbox.DefaultSeed())
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var logs syncBuffer
	c := newClient(t, srv, url, func(o *flexhrm.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.TracerProvider = tp
		o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: 100 * time.Millisecond, InitialInterval: 5 * time.Millisecond}
	})
	creds, _ := flexhrm.ParseCredentials(srv.Credentials())
	ctx := t.Context()
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	anna, err := c.FindEmployee(ctx, sandbox.EmploymentNumberAnna, "")
	keep(err)
	bad := anna
	bad.NationalIdentificationNumber = "19900312-9830"
	bad.EmailWork = "anna.lindstrom@example.se"
	_, err = c.UpdateEmployee(ctx, bad)
	keep(err)
	_, err = c.FindEmployee(ctx, sandbox.EmploymentNumberTwice, "")
	keep(err)
	pdf := contracttest.MinimalPDF("privacy")
	title := "Anna Lindström 19900312-9831 - Avtal - Signed.pdf"
	_, err = c.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: anna.ID, CategoryID: sandbox.CategoryOneflowArkivA, Title: title, PDF: bytes.NewReader(pdf), Size: int64(len(pdf))})
	keep(err)
	_ = srv.FailNext(sandbox.FailRule{PathID: "P1", Count: 100, Status: 503})
	_, err = c.FindEmployee(ctx, sandbox.EmploymentNumberAnna, "")
	keep(err)
	srv.SetCredentialsRevoked(true)
	keep(c.Check(ctx))
	if len(errs) < 5 {
		t.Fatalf("only %d calls failed; the test is not exercising failures", len(errs))
	}

	var spans strings.Builder
	for _, s := range recorder.Ended() {
		fmt.Fprintf(&spans, "%s %v %v\n", s.Name(), s.Attributes(), s.Status())
		for _, ev := range s.Events() {
			fmt.Fprintf(&spans, "%s %v\n", ev.Name, ev.Attributes)
		}
	}
	if !strings.Contains(spans.String(), "flexhrm upload employee document") || !strings.Contains(spans.String(), "title=REDACTED") {
		t.Fatalf("spans do not show the masked upload:\n%s", spans.String())
	}
	secrets := []string{
		"19900312", "9831", "9830", "anna.lindstrom", "example.se", "+4670", "Lindstr", "Lindstr%C3%B6m",
		creds.Password, creds.Encoded(), "employmentnumber=1001", "employmentnumber=2001",
	}
	sources := map[string]string{"logs": logs.String(), "spans": spans.String()}
	for i, err := range errs {
		sources[fmt.Sprintf("error %d", i)] = err.Error()
	}
	for where, text := range sources {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains %q:\n%s", where, s, text)
			}
		}
	}
}
