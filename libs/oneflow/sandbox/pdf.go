package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// StorageKeyTTL is how long a file's storage URL works, like the short-lived
// URLs Oneflow redirects to.
const StorageKeyTTL = 5 * time.Minute

type storageEntry struct {
	contract oneflow.Contract
	expires  time.Time
	size     int64
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	fileID, e := pathID(r, "file")
	if e != nil || fileID != oneflow.ContractPDFFileID {
		writeOneflowError(w, r, notFound(fmt.Sprintf("file %s of contract %d", r.PathValue("file"), id)))
		return
	}
	s.mu.Lock()
	cs, e := s.st.contract(id)
	if e != nil {
		s.mu.Unlock()
		writeOneflowError(w, r, e)
		return
	}
	if r.URL.Query().Get("download") != "true" {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"id": oneflow.ContractPDFFileID, "name": "contract.pdf", "type": "contract"})
		return
	}
	key := randomHex(24)
	// The PDF shows the contract as it was when the link was made.
	s.storage[key] = storageEntry{contract: cs.snapshot(), expires: time.Now().Add(StorageKeyTTL), size: s.largePDF}
	for k, v := range s.storage {
		if time.Now().After(v.expires) {
			delete(s.storage, k)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Location", s.baseURL+"/_storage/"+key)
	w.WriteHeader(http.StatusFound)
}

// handleStorage serves a file by its storage key, as a storage service does:
// no Oneflow credentials; it refuses requests that carry them, because a
// client must never send its API token to another origin.
func (s *Server) handleStorage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(oneflow.HeaderAPIToken) != "" || r.Header.Get(oneflow.HeaderUserEmail) != "" {
		http.Error(w, "storage refuses requests carrying Oneflow credentials", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	entry, ok := s.storage[r.PathValue("key")]
	s.mu.Unlock()
	if !ok || time.Now().After(entry.expires) {
		http.Error(w, "AccessDenied: the link is unknown or has expired", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contract-%d.pdf"`, entry.contract.ID))
	if entry.size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(entry.size, 10))
		if err := WriteLargePDF(w, entry.size, pdfLines(entry.contract)); err != nil {
			s.logger.Warn("oneflow sandbox: streaming a large PDF failed", "error", err.Error())
		}
		return
	}
	b, err := RenderContractPDF(entry.contract)
	if err != nil {
		http.Error(w, "rendering the PDF failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// pdfLines is what the contract PDF says: name, state, data fields, parties.
func pdfLines(c oneflow.Contract) []string {
	name := c.Private.Name
	if name == "" {
		name = fmt.Sprintf("Contract %d", c.ID)
	}
	lines := []string{name, fmt.Sprintf("Contract %d - state: %s", c.ID, c.State), "", "Data fields"}
	for _, f := range c.DataFields {
		lines = append(lines, fmt.Sprintf("%s: %s", f.Name, f.Value))
	}
	lines = append(lines, "", "Parties")
	for _, p := range c.Parties {
		for _, pp := range p.Participants {
			lines = append(lines, fmt.Sprintf("%s - %s (%s)", p.Name, pp.Name, pp.SignState))
		}
	}
	return lines
}

// RenderContractPDF renders the contract as a one-or-more page PDF whose text
// shows its name, state, each data field's name and value, and the parties.
// Content streams are left uncompressed so tests can find the text.
func RenderContractPDF(c oneflow.Contract) ([]byte, error) {
	lines := pdfLines(c)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle(tr(lines[0]), false)
	pdf.SetCreator("flexflow Oneflow sandbox", false)
	// The document's dates come from the contract, not the clock: the same
	// contract state always renders to the same bytes, so a PDF archived
	// now can be compared, hash for hash, with one downloaded later.
	stamp := pdfStamp(c)
	pdf.SetCatalogSort(true) // fonts and resources in a fixed order, not map order
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(0, 8, tr(lines[0]), "", "L", false)
	pdf.SetFont("Helvetica", "", 11)
	for _, line := range lines[1:] {
		if line == "Data fields" || line == "Parties" {
			pdf.SetFont("Helvetica", "B", 12)
			pdf.MultiCell(0, 7, line, "", "L", false)
			pdf.SetFont("Helvetica", "", 11)
			continue
		}
		pdf.MultiCell(0, 6, tr(line), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("sandbox: rendering the contract PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteLargePDF writes a valid one-page PDF of exactly size bytes (or the
// smallest it can be, when size is smaller), showing lines; the rest is an
// unreferenced padding stream written in chunks, so memory stays flat however
// large the file.
func WriteLargePDF(w io.Writer, size int64, lines []string) error {
	var content strings.Builder
	content.WriteString("BT /F1 11 Tf 56 790 Td 14 TL\n")
	for i, line := range lines {
		if i >= 50 {
			break
		}
		content.WriteString("(" + pdfString(line) + ") Tj T*\n")
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	header := "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
	var prefix strings.Builder
	prefix.WriteString(header)
	offsets := make([]int64, 0, len(objects)+1)
	for i, obj := range objects {
		offsets = append(offsets, int64(prefix.Len()))
		fmt.Fprintf(&prefix, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	paddingObj := len(objects) + 1
	padHeader := func(n int64) string { return fmt.Sprintf("%d 0 obj\n<< /Length %d >>\nstream\n", paddingObj, n) }
	const padTail = "\nendstream\nendobj\n"
	xrefLen := int64(len(fmt.Sprintf("xref\n0 %d\n", paddingObj+1))) + int64(20*(paddingObj+1))
	trailer := func(startxref int64) string {
		return fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", paddingObj+1, startxref)
	}
	// Solve for the padding length: the header and trailer grow with the
	// digits of the numbers they hold, so iterate until stable.
	var pad int64
	for range 5 {
		startxref := int64(prefix.Len()) + int64(len(padHeader(pad))) + pad + int64(len(padTail))
		fixed := startxref - pad + xrefLen + int64(len(trailer(startxref)))
		next := max(size-fixed, 0)
		if next == pad {
			break
		}
		pad = next
	}

	if _, err := io.WriteString(w, prefix.String()); err != nil {
		return err
	}
	offsets = append(offsets, int64(prefix.Len()))
	if _, err := io.WriteString(w, padHeader(pad)); err != nil {
		return err
	}
	if _, err := io.CopyN(w, paddingReader{}, pad); err != nil {
		return err
	}
	startxref := int64(prefix.Len()) + int64(len(padHeader(pad))) + pad + int64(len(padTail))
	var tail strings.Builder
	tail.WriteString(padTail)
	fmt.Fprintf(&tail, "xref\n0 %d\n0000000000 65535 f \n", paddingObj+1)
	for _, off := range offsets {
		fmt.Fprintf(&tail, "%010d 00000 n \n", off)
	}
	tail.WriteString(trailer(startxref))
	_, err := io.WriteString(w, tail.String())
	return err
}

// paddingReader yields an endless run of filler lines.
type paddingReader struct{}

const paddingLine = "flexflow sandbox padding: this stream is not referenced by any page.\n"

func (paddingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = paddingLine[i%len(paddingLine)]
	}
	return len(p), nil
}

// pdfString escapes a line for a PDF literal string, keeping ASCII only.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// pdfStamp is the contract's last update time, or a fixed date when it has
// none.
func pdfStamp(c oneflow.Contract) time.Time {
	if t, err := time.Parse(time.RFC3339, c.UpdatedTime); err == nil {
		return t.UTC()
	}
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
}
