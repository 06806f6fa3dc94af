package pdfcheck_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/internal/pdfcheck"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

// build lays out objects with a correct xref table; each object is the text
// between "N 0 obj\n" and "\nendobj".
func build(objects ...string) string {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.String()
}

var (
	catalog = "<< /Type /Catalog /Pages 2 0 R >>"
	pages   = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
	page    = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
	content = "<< /Length 26 >>\nstream\nBT /F1 11 Tf (Hi \\)) Tj ET\nendstream"
	font    = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	minimal = build(catalog, pages, page, content, font)
)

func TestValidPDFsPass(t *testing.T) {
	rendered, err := sandbox.RenderContractPDF(oneflow.Contract{ID: 7, State: oneflow.StateSigned,
		Private:    oneflow.ContractPrivate{Name: "Åsa Öberg - Employment (2026)"},
		DataFields: []oneflow.DataField{{Name: "City", Value: "Malmö"}}})
	if err != nil {
		t.Fatal(err)
	}
	large := func(size int64) []byte {
		var buf bytes.Buffer
		if err := sandbox.WriteLargePDF(&buf, size, []string{"Big (test)", "Åsa"}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name  string
		pdf   []byte
		pages int
	}{
		{"minimal", []byte(minimal), 1},
		{"indirect_stream_length", []byte(build(catalog, pages, page,
			"<< /Length 6 0 R >>\nstream\nBT /F1 11 Tf (Hi \\)) Tj ET\nendstream", font, "26")), 1},
		{"crlf_after_stream", []byte(build(catalog, pages, page,
			"<< /Length 26 >>\nstream\r\nBT /F1 11 Tf (Hi \\)) Tj ET\r\nendstream", font)), 1},
		{"two_level_page_tree", []byte(build(catalog, "<< /Type /Pages /Kids [6 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 6 0 R /Contents 4 0 R >>", content, font, "<< /Type /Pages /Parent 2 0 R /Kids [3 0 R] /Count 1 >>")), 1},
		{"sandbox_render", rendered, 1},
		{"sandbox_large_2kB", large(2_000), 1},
		{"sandbox_large_1MiB_plus_7", large(1<<20 + 7), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := pdfcheck.Check(tc.pdf)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if info.Pages != tc.pages {
				t.Fatalf("%d pages, want %d", info.Pages, tc.pages)
			}
		})
	}
}

// Every mistake a hand-laid PDF can make is refused, with a reason.
func TestBrokenPDFsAreRefused(t *testing.T) {
	shiftXref := func(s string, obj int, by int) string {
		// Rewrite one xref entry's offset.
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if l == "xref" {
				var off int
				entry := lines[i+2+obj]
				fmt.Sscanf(entry, "%d", &off)
				lines[i+2+obj] = fmt.Sprintf("%010d 00000 n ", off+by)
			}
		}
		return strings.Join(lines, "\n")
	}
	for _, tc := range []struct {
		name, pdf, want string
	}{
		{"no_header", strings.Replace(minimal, "%PDF-1.4", "%XDF-1.4", 1), "header"},
		{"no_eof", strings.TrimSuffix(minimal, "%%EOF\n"), "%%EOF"},
		{"truncated", minimal[:len(minimal)/2], "%%EOF"},
		{"startxref_off_by_one", strings.Replace(minimal, "startxref\n", "startxref\n1", 1), "startxref"},
		{"xref_entry_points_inside_an_object", shiftXref(minimal, 3, 2), "object 3"},
		{"xref_entry_points_at_another_object", shiftXref(minimal, 3, len("3 0 obj\n"+page+"\nendobj\n")), "points at object 4"},
		{"stream_length_too_long", strings.Replace(minimal, "/Length 26", "/Length 28", 1), "endstream"},
		{"stream_length_too_short", strings.Replace(minimal, "/Length 26", "/Length 25", 1), "endstream"},
		{"stream_length_not_a_number", strings.Replace(minimal, "/Length 26", "/Length /X", 1), "not a length"},
		{"stream_length_past_the_end", build(catalog, pages, page, "<< /Length 99999 >>\nstream\nx\nendstream", font), "past the end"},
		{"stream_without_eol", build(catalog, pages, page, "<< /Length 1 >>\nstreamx\nendstream", font), "end of line"},
		{"page_count_wrong", build(catalog, strings.Replace(pages, "/Count 1", "/Count 2", 1), page, content, font), "/Count 2"},
		{"kid_missing", build(catalog, strings.Replace(pages, "[3 0 R]", "[3 0 R 9 0 R]", 1), page, content, font), "names no object"},
		{"no_pages", build(catalog, "<< /Type /Pages /Kids [] /Count 0 >>", page, content, font), "no pages"},
		{"root_not_a_catalog", build(pages, pages, page, content, font), "not a /Catalog"},
		{"kid_not_a_page", build(catalog, pages, font, content, font), "in the page tree"},
		{"size_wrong", strings.Replace(minimal, "/Size 6", "/Size 7", 1), "/Size"},
		{"incremental_update", strings.Replace(minimal, "/Root 1 0 R", "/Root 1 0 R /Prev 9", 1), "/Prev"},
		{"free_list_head_wrong", strings.Replace(minimal, "0000000000 65535 f", "0000000000 00000 f", 1), "entry 0"},
		{"xref_entry_malformed", strings.Replace(minimal, " 00000 n \n", " 0000 n  \n", 1), "20 bytes"},
		{"dictionary_not_closed", build(catalog, pages, "<< /Type /Page /Parent 2 0 R", content, font), "not a name"},
		{"string_not_closed", build(catalog, pages, "<< /Type /Page /T (open >>", content, font), "not closed"},
		{"nested_too_deep", build(catalog, pages, page, content, font, strings.Repeat("[", 100)+strings.Repeat("]", 100)), "deeper"},
		{"no_endobj", strings.Replace(minimal, "/Count 1 >>\nendobj", "/Count 1 >>\nendobx", 1), "endobj"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pdfcheck.Check([]byte(tc.pdf))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("refused with %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func FuzzCheckNeverPanics(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(build(catalog, pages, page, "<< /Length 6 0 R >>\nstream\nx\nendstream", font, "1")))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = pdfcheck.Check(b)
	})
}
