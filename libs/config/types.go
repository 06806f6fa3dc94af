package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ListenAddr is a "host:port" address to listen on, such as
// "127.0.0.1:8080" or ":9091" (all interfaces). The port must be a number
// from 0 to 65535; 0 lets the system choose.
type ListenAddr string

// UnmarshalText validates and stores the address.
func (a *ListenAddr) UnmarshalText(text []byte) error {
	if err := ValidateListenAddr(string(text)); err != nil {
		return err
	}
	*a = ListenAddr(text)
	return nil
}

// String returns the address.
func (a ListenAddr) String() string { return string(a) }

// ValidateListenAddr checks a "host:port" listen address.
func ValidateListenAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return &invalidValueError{msg: fmt.Sprintf("invalid listen address %q: want host:port", s)}
	}
	if strings.ContainsAny(host, " /") {
		return &invalidValueError{msg: fmt.Sprintf("invalid listen address %q: bad host", s)}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return &invalidValueError{msg: fmt.Sprintf("invalid listen address %q: port must be 0-65535", s)}
	}
	return nil
}

// URL is an absolute http or https URL with a host, such as an API root.
type URL struct {
	*url.URL
}

// UnmarshalText validates and stores the URL.
func (u *URL) UnmarshalText(text []byte) error {
	parsed, err := ParseHTTPURL(string(text))
	if err != nil {
		return err
	}
	u.URL = parsed
	return nil
}

// String returns the URL with any password hidden.
func (u URL) String() string {
	if u.URL == nil {
		return ""
	}
	return u.URL.Redacted()
}

// ParseHTTPURL parses an absolute http(s) URL with a host. The error shows
// the value without its password.
func ParseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, &invalidValueError{msg: "invalid URL: cannot be parsed"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &invalidValueError{msg: fmt.Sprintf("invalid URL %q: scheme must be http or https", u.Redacted())}
	}
	if u.Host == "" {
		return nil, &invalidValueError{msg: fmt.Sprintf("invalid URL %q: no host", u.Redacted())}
	}
	return u, nil
}

// MinTokenLength is the shortest bearer token Tokens accepts: 16 characters
// keeps out placeholders like "changeme" and guessable words, while any
// generated token (openssl rand -hex 16 gives 32) passes.
const MinTokenLength = 16

// Tokens is a comma-separated list of bearer tokens. Each is trimmed of
// white space; empty entries (a trailing comma, a blank line in a file) are
// skipped; at least one token is required and each must have at least
// MinTokenLength characters. Printing a Tokens value shows only the count.
type Tokens []string

// UnmarshalText validates and stores the tokens. Its errors say which entry
// is wrong by position, never by content.
func (t *Tokens) UnmarshalText(text []byte) error {
	tokens, err := ParseTokens(string(text))
	if err != nil {
		return err
	}
	*t = tokens
	return nil
}

// String shows the number of tokens, not the tokens.
func (t Tokens) String() string { return fmt.Sprintf("[%d tokens]", len(t)) }

// LogValue keeps the tokens out of logs.
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// ParseTokens splits and validates a comma- or newline-separated token list.
func ParseTokens(s string) ([]string, error) {
	var tokens []string
	for i, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		tok := strings.TrimSpace(part)
		if tok == "" {
			continue
		}
		if len(tok) < MinTokenLength {
			return nil, &invalidValueError{msg: fmt.Sprintf("token %d is shorter than %d characters", i+1, MinTokenLength), safe: true}
		}
		if strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, &invalidValueError{msg: fmt.Sprintf("token %d contains white space or control characters", i+1), safe: true}
		}
		tokens = append(tokens, tok)
	}
	if len(tokens) == 0 {
		return nil, &invalidValueError{msg: "no tokens given", safe: true}
	}
	return tokens, nil
}

// Base64 is a value that must be valid standard base64 (padded or not),
// such as FLEXHRM_CREDENTIALS. It keeps the encoded text.
type Base64 string

// UnmarshalText validates and stores the value.
func (b *Base64) UnmarshalText(text []byte) error {
	if _, err := decodeBase64(string(text)); err != nil {
		return err
	}
	*b = Base64(text)
	return nil
}

// Decode returns the decoded bytes.
func (b Base64) Decode() ([]byte, error) {
	return decodeBase64(string(b))
}

// String hides the value: base64 configuration values are credentials.
func (b Base64) String() string { return "[REDACTED]" }

// LogValue keeps the value out of logs.
func (b Base64) LogValue() slog.Value { return slog.StringValue(b.String()) }

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if out, err := base64.StdEncoding.DecodeString(s); err == nil {
		return out, nil
	}
	if out, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return out, nil
	}
	return nil, &invalidValueError{msg: "not valid base64", safe: true}
}
