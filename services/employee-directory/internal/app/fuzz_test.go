package app_test

import (
	"errors"
	"testing"

	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// FuzzListEmployeesPageToken: a forged or damaged page token is an
// InvalidFieldError naming page_token (or, when it happens to decode, a
// page), never a panic.
func FuzzListEmployeesPageToken(f *testing.F) {
	d := newDirectory(f, seeded(), app.Options{})
	first, err := d.ListEmployees(f.Context(), app.ListEmployeesQuery{PageSize: 1})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{first.NextPageToken, "", "e30", "eyJ2IjoxLCJjIjoiYy0xIiwibyI6LTF9", "!!!"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		_, err := d.ListEmployees(t.Context(), app.ListEmployeesQuery{PageSize: 2, PageToken: token})
		var fe *domain.InvalidFieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "page_token") {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
