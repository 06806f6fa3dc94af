package flexhrm

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrMalformedCredentials is returned by ParseCredentials when the text is not
// a base64 "customer_number:username:password". The error never repeats the
// text, which is a secret.
var ErrMalformedCredentials = errors.New("flexhrm: malformed credentials")

const redacted = "[redacted]"

// Credentials are the API user's customer number, username and password.
// They format, log and marshal as "[redacted]" so that a stray %v or slog
// attribute cannot leak them.
type Credentials struct {
	CustomerNumber string
	Username       string
	Password       string

	// encoded is the base64 text they were parsed from; it is sent verbatim in
	// the Authorization header so nothing is lost in a decode/encode round trip.
	encoded string
}

// ParseCredentials reads the one base64 string of
// "customer_number:username:password" Flex HRM hands out. The decoded text is
// split on the first two colons only: the password may contain ':'.
func ParseCredentials(b64 string) (Credentials, error) {
	text := strings.TrimSpace(b64)
	if text == "" {
		return Credentials{}, fmt.Errorf("%w: empty", ErrMalformedCredentials)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: not standard base64", ErrMalformedCredentials)
	}
	decoded := string(raw)
	if !utf8.ValidString(decoded) {
		return Credentials{}, fmt.Errorf("%w: decoded text is not UTF-8", ErrMalformedCredentials)
	}
	parts := strings.SplitN(decoded, ":", 3)
	if len(parts) != 3 {
		return Credentials{}, fmt.Errorf("%w: want customer_number:username:password, found %d part(s)", ErrMalformedCredentials, len(parts))
	}
	c := Credentials{CustomerNumber: parts[0], Username: parts[1], Password: parts[2], encoded: text}
	if err := c.Validate(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// Validate reports which part of the credentials is unusable, without
// repeating any of them.
func (c Credentials) Validate() error {
	for _, p := range []struct{ name, value string }{
		{"customer number", c.CustomerNumber},
		{"username", c.Username},
		{"password", c.Password},
	} {
		if p.value == "" {
			return fmt.Errorf("%w: %s is empty", ErrMalformedCredentials, p.name)
		}
		if strings.IndexFunc(p.value, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return fmt.Errorf("%w: %s contains white space or control characters", ErrMalformedCredentials, p.name)
		}
	}
	if strings.Contains(c.CustomerNumber, ":") || strings.Contains(c.Username, ":") {
		return fmt.Errorf("%w: customer number and username cannot contain ':'", ErrMalformedCredentials)
	}
	return nil
}

// Encoded returns the base64 text sent in "Authorization: Basic": the text
// they were parsed from, or the encoding of the three parts when the
// Credentials were built in code.
func (c Credentials) Encoded() string {
	if c.encoded != "" {
		return c.encoded
	}
	return base64.StdEncoding.EncodeToString([]byte(c.CustomerNumber + ":" + c.Username + ":" + c.Password))
}

// IsZero reports whether no credentials were given at all.
func (c Credentials) IsZero() bool {
	return c.CustomerNumber == "" && c.Username == "" && c.Password == "" && c.encoded == ""
}

// String redacts: credentials are secrets.
func (c Credentials) String() string { return "flexhrm.Credentials" + redacted }

// GoString redacts for %#v too.
func (c Credentials) GoString() string { return c.String() }

// LogValue redacts in log/slog.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts, so a config dump cannot leak them.
func (c Credentials) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
