package domain

import (
	"cmp"
	"fmt"
	"time"
)

// Date is a calendar day without a time zone, the unit Flex HRM periods and
// the mapped start/end fields use. The zero Date means "not set" (an
// open-ended period's end).
type Date struct {
	year  int
	month time.Month
	day   int
}

// dateLayout is the ISO 8601 day every flexflow API speaks.
const dateLayout = "2006-01-02"

// ParseDate reads a `YYYY-MM-DD` day. The empty string is the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	return DateOf(t), nil
}

// DateOf is the calendar day of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{year: y, month: m, day: d}
}

// NewDate builds a Date from its parts; out-of-range parts normalise the way
// time.Date does.
func NewDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time is midnight UTC of the day; the zero Date gives the zero time.Time.
func (d Date) Time() time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC)
}

// String is `YYYY-MM-DD`, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(dateLayout)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o. The zero
// Date sorts first.
func (d Date) Compare(o Date) int {
	return cmp.Or(cmp.Compare(d.year, o.year), cmp.Compare(d.month, o.month), cmp.Compare(d.day, o.day))
}
