package telemetry

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Replacement markers name what was removed, so a reader of a log line knows
// a value was there without learning it.
const (
	redactedSecret = "[REDACTED:secret]"
	redactedEmail  = "[REDACTED:email]"
	redactedPNR    = "[REDACTED:national-id]"
	redactedPhone  = "[REDACTED:phone]"
)

// MinSecretLength is the shortest secret AddSecret registers: a shorter
// string would shred ordinary words in every log line it appears in.
const MinSecretLength = 4

var (
	// emailPattern is deliberately broad (any letters, digits and the usual
	// punctuation before an @, a dotted domain with a letter TLD): a false
	// positive costs a log reader a little, a false negative leaks an address.
	emailPattern = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}`)

	// pnrPattern finds candidates for Swedish personnummer and
	// samordningsnummer: YYMMDD[-+]NNNN or YYYYMMDD[-+]NNNN. Candidates are
	// then checked for a plausible date (and Luhn when written without a
	// separator) by plausibleNationalID.
	pnrPattern = regexp.MustCompile(`\d{6}(?:\d{2})?[-+]?\d{4}`)

	// phonePatterns are checked in order; each match is then bounded so that
	// digits inside longer identifiers are left alone.
	phonePatterns = []*regexp.Regexp{
		// International with a plus: +46 70 123 45 67, +1 (555) 123-4567.
		regexp.MustCompile(`\+\d[\d \-()]{5,20}\d`),
		// Swedish international prefix written with 00.
		regexp.MustCompile(`0046[\d \-]{6,14}\d`),
		// Swedish mobile numbers: 070-123 45 67, 0701234567, 073 123 45 67.
		regexp.MustCompile(`07\d(?:[ \-]?\d){7}`),
		// Swedish landline with an area code and a dash: 08-123 456 78, 031-12 34 56.
		regexp.MustCompile(`0[1-9]\d{0,2}-\d(?:[ ]?\d){4,7}`),
	}
)

// Redactor removes personal data and registered secrets from text. One
// Redactor is shared by a service's logger, its span exporter and the code
// that builds error messages for callers, so that a secret registered once
// (a token, the Flex HRM credentials, the Oneflow sign key) is scrubbed
// everywhere. It is safe for concurrent use; the zero value is not usable,
// use NewRedactor.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string
	replacer *strings.Replacer // nil when no secrets are registered
}

// NewRedactor returns a Redactor that knows the built-in patterns (Swedish
// national ID numbers, emails, phone numbers) and no secrets yet.
func NewRedactor() *Redactor {
	return &Redactor{}
}

// AddSecret registers a literal value that must never be shown, such as a
// bearer token, the base64 Flex HRM credentials and the password decoded from
// them, or the Oneflow sign key. Values shorter than MinSecretLength and
// values already registered are ignored.
func (r *Redactor) AddSecret(secret string) {
	if len(secret) < MinSecretLength {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// A secret inside a value the logger marshals to JSON appears in its
	// escaped form, so that form is registered too.
	for _, form := range []string{secret, jsonEscaped(secret, true), jsonEscaped(secret, false)} {
		if !slices.Contains(r.secrets, form) {
			r.secrets = append(r.secrets, form)
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, redactedSecret)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// Redact returns s with registered secrets, emails, Swedish national ID
// numbers and phone numbers replaced by markers such as "[REDACTED:email]".
// Identifiers that merely contain digits (UUIDs, trace ids, contract ids,
// timestamps) are left as they are.
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	r.mu.RLock()
	replacer := r.replacer
	r.mu.RUnlock()
	if replacer != nil {
		s = replacer.Replace(s)
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllString(s, redactedEmail)
	}
	if !hasDigits(s, 8) {
		return s
	}
	s = replaceBounded(s, pnrPattern, plausibleNationalID, redactedPNR)
	for _, p := range phonePatterns {
		s = replaceBounded(s, p, plausiblePhone, redactedPhone)
	}
	return s
}

// hasDigits reports whether s contains at least n ASCII digits; text with
// fewer cannot hold a national ID or phone number, which keeps the common
// case cheap.
func hasDigits(s string, n int) bool {
	count := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			count++
			if count >= n {
				return true
			}
		}
	}
	return false
}

// replaceBounded replaces matches of re that stand alone (not glued to
// letters, digits or a dash on either side, as inside UUIDs, trace ids or
// longer numbers) and that valid accepts.
func replaceBounded(s string, re *regexp.Regexp, valid func(string) bool, marker string) string {
	matches := re.FindAllStringIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		start, end := m[0], m[1]
		if start > 0 && isGlue(s[start-1]) {
			continue
		}
		if end < len(s) && isGlue(s[end]) {
			continue
		}
		if !valid(s[start:end]) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(marker)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isGlue reports whether c joins a match to its neighbour, making it part of
// a longer token.
func isGlue(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
}

// plausibleNationalID checks a personnummer/samordningsnummer candidate: 10
// or 12 digits, a real-looking date (day+60 for samordningsnummer), and,
// when written without a separator, a valid Luhn check digit (bare digit
// runs are common in other identifiers, a separator is not).
func plausibleNationalID(candidate string) bool {
	digits := make([]byte, 0, 12)
	separated := false
	for i := 0; i < len(candidate); i++ {
		c := candidate[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '-' || c == '+':
			separated = true
		}
	}
	var date []byte
	switch len(digits) {
	case 10:
		date = digits[0:6]
	case 12:
		century := string(digits[0:2])
		if century != "18" && century != "19" && century != "20" {
			return false
		}
		date = digits[2:8]
	default:
		return false
	}
	month := num2(date[2:4])
	day := num2(date[4:6])
	if month < 1 || month > 12 {
		return false
	}
	if !(day >= 1 && day <= 31) && !(day >= 61 && day <= 91) {
		return false
	}
	if separated {
		return true
	}
	return luhnValid(digits[len(digits)-10:])
}

func num2(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }

// luhnValid checks the Luhn digit of a Swedish 10-digit national ID.
func luhnValid(digits []byte) bool {
	sum := 0
	for i, c := range digits {
		d := int(c - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// plausiblePhone counts digits: a phone number has 8 to 15 of them (E.164's
// maximum), which keeps short codes and long identifiers out.
func plausiblePhone(candidate string) bool {
	n := 0
	for i := 0; i < len(candidate); i++ {
		if candidate[i] >= '0' && candidate[i] <= '9' {
			n++
		}
	}
	return n >= 8 && n <= 15
}

// jsonEscaped returns s as it appears inside a JSON string, with or without
// HTML escaping (encoding/json escapes <, > and & by default).
func jsonEscaped(s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		return s
	}
	out := bytes.TrimSpace(buf.Bytes())
	return string(out[1 : len(out)-1])
}
