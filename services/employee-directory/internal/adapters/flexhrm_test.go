package adapters_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"

	"github.com/flexflow/flexflow/services/employee-directory/internal/adapters"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// newAdapter starts a sandbox and returns the adapter on a real client with
// a short retry budget.
func newAdapter(t *testing.T) (*adapters.FlexHRM, *sandbox.Server) {
	t.Helper()
	sb := sandbox.New(sandbox.DefaultSeed())
	root, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	creds, err := flexhrm.ParseCredentials(sb.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	client, err := flexhrm.New(flexhrm.Options{APIRoot: root, Credentials: creds,
		Retry: flexhrm.RetryPolicy{MaxElapsedTime: 200 * time.Millisecond, InitialInterval: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := adapters.NewFlexHRM(client)
	if err != nil {
		t.Fatal(err)
	}
	return a, sb
}

func TestFlexHRMErrorsBecomeDomainErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		number  string
		want    error
		wantMsg string
	}{
		{name: "401 is rejected credentials", status: 401, want: domain.ErrCredentialsRejected, wantMsg: "(FLEXHRM_CREDENTIALS)"},
		{name: "403 is a company the API user may not access", status: 403, want: domain.ErrCompanyForbidden},
		{name: "429 after the retries is rate limited", status: 429, want: domain.ErrRateLimited},
		{name: "503 after the retries is unavailable", status: 503, want: domain.ErrUpstreamUnavailable, wantMsg: "503"},
		{name: "500 is unavailable at once", status: 500, want: domain.ErrUpstreamUnavailable},
		{name: "an unknown number is employee not found", number: "9999", want: domain.ErrEmployeeNotFound},
		{name: "an employee not found is also a generic not found", number: "9999", want: domain.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, sb := newAdapter(t)
			if tt.status != 0 {
				if err := sb.FailNext(sandbox.FailRule{PathID: "P1", Count: 1000, Status: tt.status}); err != nil {
					t.Fatal(err)
				}
			}
			number := tt.number
			if number == "" {
				number = sandbox.EmploymentNumberAnna
			}
			_, err := a.FindEmployee(t.Context(), number, "")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
	t.Run("an ambiguous number names each company with its id", func(t *testing.T) {
		a, _ := newAdapter(t)
		_, err := a.FindEmployee(t.Context(), sandbox.EmploymentNumberTwice, "")
		var amb *domain.AmbiguousEmployeeError
		if !errors.As(err, &amb) || len(amb.Companies) != 2 ||
			amb.Companies[0] != "Flexflow Demo AB (company_id "+sandbox.CompanyA+")" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an overlapping period is ErrOverlappingDates", func(t *testing.T) {
		a, _ := newAdapter(t)
		periods, err := a.ListEmploymentPeriods(t.Context(), sandbox.EmployeeAnna)
		if err != nil || len(periods) != 2 {
			t.Fatalf("periods %v, %v", periods, err)
		}
		overlapping := periods[0]
		overlapping.ID = ""
		overlapping.From = domain.NewDate(2021, 6, 1)
		_, err = a.CreateEmploymentPeriod(t.Context(), overlapping)
		if !errors.Is(err, domain.ErrOverlappingDates) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUpdateEmployeeRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		write    bool
		wantPuts int
		wantCity string
	}{
		{name: "a change is written with the object as read", write: true, wantPuts: 1, wantCity: "Visby"},
		{name: "no change means no PUT", write: false, wantPuts: 0, wantCity: "Lund"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, sb := newAdapter(t)
			stored, err := a.UpdateEmployee(t.Context(), sandbox.EmployeeNoManager, func(p domain.Person) (domain.Person, bool, error) {
				p.City = "Visby"
				return p, tt.write, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			puts := 0
			for _, r := range sb.Requests() {
				if r.Method == "PUT" {
					puts++
				}
			}
			if puts != tt.wantPuts || stored.City != tt.wantCity {
				t.Fatalf("puts %d city %q; want %d %q", puts, stored.City, tt.wantPuts, tt.wantCity)
			}
			for _, e := range sb.State().Employees {
				if e.ID == sandbox.EmployeeNoManager && (e.EmailPrivate == nil || *e.EmailPrivate != "bo.privat@example.se") {
					t.Fatal("a property flexflow does not map was lost")
				}
			}
		})
	}
}

func TestNewFlexHRMRefusesNil(t *testing.T) {
	if _, err := adapters.NewFlexHRM(nil); err == nil {
		t.Fatal("want an error")
	}
}
