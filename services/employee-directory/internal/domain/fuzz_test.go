package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// FuzzParseUpdateMask: whatever paths a caller sends, the mask parser
// answers writable fields or an InvalidFieldError naming update_mask, and
// never panics.
func FuzzParseUpdateMask(f *testing.F) {
	for _, seed := range []string{"first_name", "emailWork", "position", "flex.employee_id", "", "a,b", "FIRST_NAME", "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		fields, err := domain.ParseUpdateMask(strings.Split(joined, ","))
		if err != nil {
			var fe *domain.InvalidFieldError
			if !errors.As(err, &fe) || fe.Field != "update_mask" {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, f := range fields {
			if f.Value(domain.Employee{FirstName: "x", Surname: "x", NationalID: "x", COAddress: "x", StreetAddress: "x",
				PostalCode: "x", City: "x", Country: "x", EmailWork: "x", MobilePhonePrivate: "x"}) != "x" {
				t.Fatalf("field %q is not writable", f)
			}
		}
	})
}

// FuzzParseDate: a date either parses and prints back identically, or is
// refused.
func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{"2024-02-29", "2023-02-29", "", "2024-1-1", "9999-12-31"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domain.ParseDate(s)
		if err == nil && d.String() != s {
			t.Fatalf("ParseDate(%q) prints as %q", s, d)
		}
	})
}
