package domain_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

func TestDocumentTitle(t *testing.T) {
	long230 := strings.Repeat("å", 230)
	tests := []struct {
		name string
		in   domain.TitleParts
		want string
	}{
		{
			name: "contract_name_gets_the_pending_suffix",
			in:   domain.TitleParts{ContractName: "Anställningsavtal Anna", Status: domain.StatusPending},
			want: "Anställningsavtal Anna - Pending.pdf",
		},
		{
			name: "contract_name_gets_the_signed_suffix",
			in:   domain.TitleParts{ContractName: "Anställningsavtal Anna", Status: domain.StatusSigned},
			want: "Anställningsavtal Anna - Signed.pdf",
		},
		{
			name: "no_contract_name_uses_employee_and_template",
			in:   domain.TitleParts{EmployeeName: "Anna Lindström", TemplateName: "Tillsvidare", Status: domain.StatusSigned},
			want: "Anna Lindström - Tillsvidare - Signed.pdf",
		},
		{
			name: "blank_contract_name_counts_as_no_name",
			in:   domain.TitleParts{ContractName: " \t\n ", EmployeeName: "Anna Lindström", TemplateName: "Tillsvidare", Status: domain.StatusPending},
			want: "Anna Lindström - Tillsvidare - Pending.pdf",
		},
		{
			name: "missing_template_name_leaves_the_employee_name",
			in:   domain.TitleParts{EmployeeName: "Anna Lindström", Status: domain.StatusPending},
			want: "Anna Lindström - Pending.pdf",
		},
		{
			name: "nothing_known_falls_back_to_the_contract_id",
			in:   domain.TitleParts{ContractID: 4711, Status: domain.StatusPending},
			want: "Contract 4711 - Pending.pdf",
		},
		{
			name: "disliked_characters_become_dashes",
			in:   domain.TitleParts{ContractName: `a/b\c:d*e?f"g<h>i|j`, Status: domain.StatusSigned},
			want: "a-b-c-d-e-f-g-h-i-j - Signed.pdf",
		},
		{
			name: "control_characters_inside_become_dashes",
			in:   domain.TitleParts{ContractName: "a\tb\nc\x00d\x7fe\u0085f\u2028g", Status: domain.StatusSigned},
			want: "a-b-c-d-e-f-g - Signed.pdf",
		},
		{
			name: "surrounding_spaces_and_line_breaks_are_trimmed",
			in:   domain.TitleParts{ContractName: "  \n Avtal  \r\n", Status: domain.StatusPending},
			want: "Avtal - Pending.pdf",
		},
		{
			name: "invalid_utf8_bytes_become_dashes",
			in:   domain.TitleParts{ContractName: "Av\xfftal", Status: domain.StatusPending},
			want: "Av-tal - Pending.pdf",
		},
		{
			name: "a_230_character_name_is_cut_to_200_with_the_suffix_whole",
			in:   domain.TitleParts{ContractName: long230, Status: domain.StatusSigned},
			want: strings.Repeat("å", 200-len([]rune(" - Signed.pdf"))) + " - Signed.pdf",
		},
		{
			name: "a_name_of_exactly_the_room_left_is_kept",
			in:   domain.TitleParts{ContractName: strings.Repeat("x", 186), Status: domain.StatusPending},
			want: strings.Repeat("x", 186) + " - Pending.pdf",
		},
		{
			name: "a_cut_that_ends_in_spaces_is_trimmed",
			in:   domain.TitleParts{ContractName: strings.Repeat("x", 185) + "   tail", Status: domain.StatusPending},
			want: strings.Repeat("x", 185) + " - Pending.pdf",
		},
		{
			name: "four_byte_characters_are_counted_once_and_never_split",
			in:   domain.TitleParts{ContractName: strings.Repeat("😀", 300), Status: domain.StatusSigned},
			want: strings.Repeat("😀", 187) + " - Signed.pdf",
		},
		{
			name: "employee_and_template_part_is_shortened_as_one",
			in:   domain.TitleParts{EmployeeName: strings.Repeat("E", 100), TemplateName: strings.Repeat("T", 100), Status: domain.StatusPending},
			want: strings.Repeat("E", 100) + " - " + strings.Repeat("T", 83) + " - Pending.pdf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.DocumentTitle(tt.in)
			if got != tt.want {
				t.Errorf("DocumentTitle() = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > domain.MaxTitleRunes {
				t.Errorf("title has %d characters, more than %d", n, domain.MaxTitleRunes)
			}
		})
	}
}

// FuzzDocumentTitle checks the rule's promises on any input: valid UTF-8, at
// most 200 characters, the status suffix whole, no disliked character, and a
// name part without surrounding spaces.
func FuzzDocumentTitle(f *testing.F) {
	f.Add("Anställningsavtal Anna", "Anna Lindström", "Tillsvidare", true)
	f.Add("", "Anna", "Mall", false)
	f.Add(strings.Repeat("å", 230), "", "", true)
	f.Add("a/b\\c:d*e?f\"g<h>i|j\x00\x1f\x7f", "", "", false)
	f.Add("  \xff\xfe  ", " \t", "\n", true)
	f.Fuzz(func(t *testing.T, contract, employee, template string, signed bool) {
		status := domain.StatusPending
		if signed {
			status = domain.StatusSigned
		}
		got := domain.DocumentTitle(domain.TitleParts{ContractID: 1, ContractName: contract, EmployeeName: employee, TemplateName: template, Status: status})
		if !utf8.ValidString(got) {
			t.Fatalf("title %q is not valid UTF-8", got)
		}
		if n := utf8.RuneCountInString(got); n > domain.MaxTitleRunes {
			t.Fatalf("title %q has %d characters", got, n)
		}
		suffix := status.TitleSuffix()
		if !strings.HasSuffix(got, suffix) {
			t.Fatalf("title %q lost its suffix %q", got, suffix)
		}
		base := strings.TrimSuffix(got, suffix)
		if base == "" || base != strings.TrimSpace(base) {
			t.Fatalf("name part %q is empty or has surrounding spaces", base)
		}
		if strings.ContainsAny(base, "/\\:*?\"<>|\uFFFD") {
			t.Fatalf("name part %q keeps a disliked character", base)
		}
		for _, r := range base {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("name part %q keeps control character %U", base, r)
			}
		}
	})
}
