package flexhrm_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// pdfStream produces n pseudo-random bytes (starting like a PDF) without
// holding them: the test's own memory stays flat however large n is.
type pdfStream struct {
	rng  *rand.ChaCha8
	left int64
	sent int64
}

func newPDFStream(n int64, seed byte) *pdfStream {
	var s [32]byte
	s[0] = seed
	return &pdfStream{rng: rand.NewChaCha8(s), left: n}
}

func (p *pdfStream) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	_, _ = p.rng.Read(b)
	const magic = "%PDF-1.7\n"
	for i := range b {
		if off := p.sent + int64(i); off < int64(len(magic)) {
			b[i] = magic[off]
		}
	}
	p.left -= int64(len(b))
	p.sent += int64(len(b))
	return len(b), nil
}

func sha256Of(t testing.TB, r io.Reader) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestLargePDFIsStreamedAndStoredExactly(t *testing.T) {
	const size = 20 << 20
	for _, tc := range []struct {
		name      string
		announced int64
	}{
		{"known_size_sent_with_content_length", size},
		{"unknown_size_sent_chunked", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := sandboxClient(t)
			title := "Anna Lindström - Anställningsavtal: 2024/25 \"slutlig\" - Signed.pdf"
			doc, err := c.UploadEmployeeDocument(t.Context(), flexhrm.UploadRequest{
				EmployeeID: sandbox.EmployeeAnna, CategoryID: sandbox.CategoryOneflowA, Title: title,
				PDF: newPDFStream(size, 1), Size: tc.announced,
			})
			if err != nil {
				t.Fatal(err)
			}
			if doc.ContentLength != size || doc.Title != title || doc.FileName != title || doc.ContentType != "application/pdf" || doc.Created.IsZero() {
				t.Fatalf("document = %+v", doc)
			}
			want := sha256Of(t, newPDFStream(size, 1))
			state := srv.State()
			if len(state.Documents) != 1 || state.Documents[0].SHA256 != want || state.Documents[0].Size != size {
				t.Fatalf("stored %+v, want sha256 %s", state.Documents, want)
			}
		})
	}
}

// TestUploadNeverHoldsTheWholePDF proves streaming without timing: the PDF
// reader hands out chunk k only after the server has consumed chunk k-2. A
// client that read the whole PDF before sending would never get there.
func TestUploadNeverHoldsTheWholePDF(t *testing.T) {
	const chunk, chunks = 1 << 20, 12
	var consumed atomic.Int64
	progress := make(chan struct{}, 1) // coalesced wake-ups
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		part, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := part.Read(buf)
			consumed.Add(int64(n))
			select {
			case progress <- struct{}{}:
			default: // a wake-up is already pending
			}
			if err != nil {
				break
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"d1","contentLength":12582912}`)
	}))
	t.Cleanup(ts.Close)
	c, err := flexhrm.New(flexhrm.Options{APIRoot: ts.URL, Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	gated := &gatedReader{chunk: chunk, chunks: chunks, consumed: &consumed, progress: progress, t: t}
	doc, err := c.UploadEmployeeDocument(t.Context(), flexhrm.UploadRequest{EmployeeID: "e", CategoryID: "c", Title: "t.pdf", PDF: gated, Size: chunk * chunks})
	if err != nil || doc.ID != "d1" {
		t.Fatalf("upload = %+v, %v", doc, err)
	}
	if consumed.Load() != chunk*chunks {
		t.Fatalf("server consumed %d bytes", consumed.Load())
	}
}

type gatedReader struct {
	chunk, chunks int64
	next          int64
	offset        int64
	consumed      *atomic.Int64
	progress      chan struct{}
	t             *testing.T
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.next >= g.chunks && g.offset == 0 {
		return 0, io.EOF
	}
	if g.offset == 0 && g.next >= 2 {
		// Wait until the server has received all but the last two chunks.
		deadline := time.After(20 * time.Second) // a hang guard, not a measurement
		for g.consumed.Load() < (g.next-2)*g.chunk {
			select {
			case <-g.progress:
			case <-deadline:
				g.t.Errorf("the server never received chunk %d: the client is buffering the PDF", g.next-2)
				return 0, errors.New("gated reader gave up")
			}
		}
	}
	n := min(int64(len(p)), g.chunk-g.offset)
	clear(p[:n])
	g.offset += n
	if g.offset == g.chunk {
		g.offset = 0
		g.next++
	}
	return int(n), nil
}

func TestUploadRefusesWhatCannotBeRight(t *testing.T) {
	tests := []struct {
		name string
		req  flexhrm.UploadRequest
		want error
		says string
	}{
		{"known_size_over_25_MiB_is_refused_before_sending", flexhrm.UploadRequest{Size: flexhrm.MaxUploadBytes + 1, PDF: newPDFStream(1, 1)}, flexhrm.ErrPayloadTooLarge, "over 25 MiB"},
		{"unknown_size_over_25_MiB_stops_at_the_limit", flexhrm.UploadRequest{Size: -1, PDF: newPDFStream(flexhrm.MaxUploadBytes+1, 1)}, flexhrm.ErrPayloadTooLarge, "over 25 MiB"},
		{"shorter_than_announced_is_an_error", flexhrm.UploadRequest{Size: 1000, PDF: newPDFStream(10, 1)}, nil, "ended after 10 of the announced 1000 bytes"},
		{"longer_than_announced_is_an_error", flexhrm.UploadRequest{Size: 10, PDF: newPDFStream(1000, 1)}, nil, "longer than the announced 10 bytes"},
		{"failing_reader_is_reported", flexhrm.UploadRequest{Size: -1, PDF: io.MultiReader(newPDFStream(100, 1), failingReader{})}, errDisk, "reading the PDF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := sandboxClient(t)
			tc.req.EmployeeID, tc.req.CategoryID, tc.req.Title = sandbox.EmployeeAnna, sandbox.CategoryOneflowA, "x.pdf"
			_, err := c.UploadEmployeeDocument(t.Context(), tc.req)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.want, tc.says)
			}
			if docs := srv.State().Documents; len(docs) != 0 {
				t.Fatalf("a document was stored: %+v", docs)
			}
		})
	}
}

var errDisk = errors.New("disk on fire")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errDisk }

// BenchmarkUploadEmployeeDocument20MiB streams a 20 MiB PDF to the sandbox
// over loopback and reports the peak heap growth during the upload (client
// and in-process sandbox together); streaming keeps it near the buffers'
// size, far below the PDF's.
func BenchmarkUploadEmployeeDocument20MiB(b *testing.B) {
	const size = 20 << 20
	srv, c := sandboxClient(b)
	var peak uint64
	b.SetBytes(size)
	for b.Loop() {
		srv.Reset()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		done := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var maxHeap uint64
			var m runtime.MemStats
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					sampled <- maxHeap
					return
				case <-tick.C:
					runtime.ReadMemStats(&m)
					maxHeap = max(maxHeap, m.HeapAlloc)
				}
			}
		}()
		_, err := c.UploadEmployeeDocument(b.Context(), flexhrm.UploadRequest{
			EmployeeID: sandbox.EmployeeAnna, CategoryID: sandbox.CategoryOneflowA, Title: "bench.pdf", PDF: newPDFStream(size, 2), Size: size,
		})
		close(done)
		maxHeap := <-sampled
		if err != nil {
			b.Fatal(err)
		}
		if maxHeap > before.HeapAlloc {
			peak = max(peak, maxHeap-before.HeapAlloc)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
