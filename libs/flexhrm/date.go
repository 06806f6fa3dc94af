package flexhrm

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidDate is returned when a date in a Flex HRM response (or handed to
// ParseDate) is not one of the shapes the model allows.
var ErrInvalidDate = errors.New("flexhrm: invalid date")

// Date is a calendar date without time or zone, as Flex HRM keeps employment
// dates. It writes "YYYY-MM-DDT00:00:00" and reads that, "YYYY-MM-DD", a
// trailing "Z" and fractional seconds. The zero Date means "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate builds a Date; it does not normalise (use ParseDate to validate).
func NewDate(year int, month time.Month, day int) Date {
	return Date{Year: year, Month: month, Day: day}
}

// DateOf is the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads "YYYY-MM-DD" or "YYYY-MM-DDT00:00:00" with optional
// fractional seconds and an optional trailing "Z". A time of day other than
// midnight is refused (see gaps.go).
func ParseDate(s string) (Date, error) {
	if len(s) < 10 {
		return Date{}, fmt.Errorf("%w: too short", ErrInvalidDate)
	}
	d, err := parseYMD(s[:10])
	if err != nil {
		return Date{}, err
	}
	rest := s[10:]
	if rest == "" {
		return d, nil
	}
	rest = strings.TrimSuffix(rest, "Z")
	if !strings.HasPrefix(rest, "T00:00:00") {
		return Date{}, fmt.Errorf("%w: time of day must be T00:00:00", ErrInvalidDate)
	}
	rest = rest[len("T00:00:00"):]
	if rest == "" {
		return d, nil
	}
	if rest[0] != '.' || len(rest) == 1 {
		return Date{}, fmt.Errorf("%w: unexpected text after the time", ErrInvalidDate)
	}
	for _, c := range rest[1:] {
		if c != '0' {
			return Date{}, fmt.Errorf("%w: time of day must be midnight", ErrInvalidDate)
		}
	}
	return d, nil
}

func parseYMD(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w: want YYYY-MM-DD", ErrInvalidDate)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("%w: want YYYY-MM-DD", ErrInvalidDate)
	}
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if y < 1 || !date.valid() {
		return Date{}, fmt.Errorf("%w: not a calendar date", ErrInvalidDate)
	}
	return date, nil
}

// digits parses ASCII digits only (strconv would take signs).
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func (d Date) valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// Time is midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	return cmp.Or(cmp.Compare(d.Year, o.Year), cmp.Compare(d.Month, o.Month), cmp.Compare(d.Day, o.Day))
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// String is ISO 8601 "YYYY-MM-DD" (how Oneflow and people read dates); the
// zero Date is "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalJSON writes "YYYY-MM-DDT00:00:00", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if !d.valid() {
		return nil, fmt.Errorf("%w: not a calendar date", ErrInvalidDate)
	}
	return []byte(`"` + d.String() + `T00:00:00"`), nil
}

// UnmarshalJSON reads the shapes ParseDate reads; null leaves the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: not a string", ErrInvalidDate)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}
