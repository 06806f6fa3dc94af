package domain

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTitleRunes is the longest document title Flex HRM accepts, counted in
// Unicode characters (runes), not bytes.
const MaxTitleRunes = 200

// TitleParts are the inputs of the document-name rule. ContractName wins
// when it is not blank; otherwise the title is built from EmployeeName and
// TemplateName, and when those are blank too, from the contract id, so a
// document always gets a readable name.
type TitleParts struct {
	ContractID   int64
	ContractName string
	EmployeeName string
	TemplateName string
	Status       Status
}

// DocumentTitle builds the Flex HRM document title for a contract PDF:
// `[Contract Name] - Pending.pdf`, `[Contract Name] - Signed.pdf`, or
// `[Employee Name] - [Template Name] - <Status>.pdf` when the contract has no
// name. The result is at most MaxTitleRunes characters: the status suffix is
// kept whole and the name part is shortened on a rune boundary. Characters
// Flex HRM or file systems dislike (`/ \ : * ? " < > |` and control
// characters) become `-`, invalid UTF-8 bytes become `-` too, and spaces
// around the name part (also after shortening) are trimmed.
func DocumentTitle(p TitleParts) string {
	suffix := p.Status.TitleSuffix()
	base := cleanPart(p.ContractName)
	if base == "" {
		employee, template := cleanPart(p.EmployeeName), cleanPart(p.TemplateName)
		switch {
		case employee != "" && template != "":
			base = employee + " - " + template
		case employee != "":
			base = employee
		case template != "":
			base = template
		default:
			base = "Contract " + strconv.FormatInt(p.ContractID, 10)
		}
	}
	limit := MaxTitleRunes - utf8.RuneCountInString(suffix)
	base = shorten(base, limit)
	return base + suffix
}

// cleanPart replaces disliked characters and trims surrounding white space.
// Trimming comes first so that a trailing newline disappears instead of
// becoming a dash.
func cleanPart(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if disliked(r) {
			r = '-'
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// disliked reports whether r must not appear in a document title. Invalid
// UTF-8 has been turned into U+FFFD by then and is replaced as well, so a
// title never carries a character that came from broken bytes.
func disliked(r rune) bool {
	switch r {
	case '/', '\\', ':', '*', '?', '"', '<', '>', '|', utf8.RuneError,
		'\u2028', '\u2029': // line and paragraph separators act as line breaks
		return true
	}
	return unicode.IsControl(r)
}

// shorten keeps at most limit runes of s and trims the white space the cut
// may leave at the end.
func shorten(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace)
		}
		n++
	}
	return s
}
