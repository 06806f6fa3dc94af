package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

func day(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var dateCmp = cmp.Comparer(func(a, b domain.Date) bool { return a == b })

func anna() domain.Person {
	return domain.Person{
		ID: "e-anna", CompanyID: "c-1", InstanceID: "i-1", FullName: "Anna Lindström",
		EmploymentNumbers: []string{"1001"}, ManagerID: "e-boss",
		FirstName: "Anna", LastName: "Lindström", NationalID: "19900312-1234",
		AddressRow1: "c/o Berg", AddressRow2: "Storgatan 1", PostalCode: "111 22",
		City: "Stockholm", Country: "Sverige", EmailWork: "anna@example.se", Phone4: "+46701234567",
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "an ISO day round-trips", in: "2024-02-29", want: "2024-02-29"},
		{name: "the empty string is the unset date", in: "", want: ""},
		{name: "an impossible day is refused", in: "2023-02-29", wantErr: true},
		{name: "a timestamp is refused", in: "2024-01-01T00:00:00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseDate(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMapEmployee(t *testing.T) {
	boss := domain.Person{ID: "e-boss", FirstName: "Bo", LastName: "Chef", FullName: "Bo Chef", EmailWork: "bo@example.se"}
	period := domain.Period{ID: "p-2", CompanyID: "c-1", From: day("2023-01-01"), To: day("2025-12-31"), TitleID: "t-dev"}
	title := domain.Title{ID: "t-dev", CompanyID: "c-1", Name: "Developer", Active: true}
	tests := []struct {
		name string
		src  domain.EmployeeSources
		want domain.Employee
	}{
		{
			name: "every mapped field comes from its Flex source",
			src:  domain.EmployeeSources{EmployeeNumber: "1001", Person: anna(), Manager: &boss, Period: &period, Title: &title},
			want: domain.Employee{
				EmployeeNumber: "1001", FirstName: "Anna", Surname: "Lindström", NationalID: "19900312-1234",
				COAddress: "c/o Berg", StreetAddress: "Storgatan 1", PostalCode: "111 22", City: "Stockholm",
				Country: "Sverige", EmailWork: "anna@example.se", MobilePhonePrivate: "+46701234567",
				ManagerName: "Bo Chef", ManagerEmail: "bo@example.se", Position: "Developer",
				EmploymentStart: day("2023-01-01"), EmploymentEnd: day("2025-12-31"), FullName: "Anna Lindström",
				Flex: domain.FlexIDs{EmployeeID: "e-anna", CompanyID: "c-1", ManagerEmployeeID: "e-boss", EmploymentPeriodID: "p-2", TitleID: "t-dev"},
			},
		},
		{
			name: "an employee without manager, period or title leaves those fields empty",
			src: domain.EmployeeSources{EmployeeNumber: "1001", Person: func() domain.Person {
				p := anna()
				p.ManagerID = ""
				return p
			}()},
			want: domain.Employee{
				EmployeeNumber: "1001", FirstName: "Anna", Surname: "Lindström", NationalID: "19900312-1234",
				COAddress: "c/o Berg", StreetAddress: "Storgatan 1", PostalCode: "111 22", City: "Stockholm",
				Country: "Sverige", EmailWork: "anna@example.se", MobilePhonePrivate: "+46701234567",
				FullName: "Anna Lindström", Flex: domain.FlexIDs{EmployeeID: "e-anna", CompanyID: "c-1"},
			},
		},
		{
			name: "a manager without work email gives the name and no email",
			src: domain.EmployeeSources{EmployeeNumber: "1001", Person: anna(), Manager: &domain.Person{
				ID: "e-boss", FirstName: "Bo", LastName: "Chef",
			}},
			want: domain.Employee{
				EmployeeNumber: "1001", FirstName: "Anna", Surname: "Lindström", NationalID: "19900312-1234",
				COAddress: "c/o Berg", StreetAddress: "Storgatan 1", PostalCode: "111 22", City: "Stockholm",
				Country: "Sverige", EmailWork: "anna@example.se", MobilePhonePrivate: "+46701234567",
				ManagerName: "Bo Chef", FullName: "Anna Lindström",
				Flex: domain.FlexIDs{EmployeeID: "e-anna", CompanyID: "c-1", ManagerEmployeeID: "e-boss"},
			},
		},
		{
			name: "a period whose title is unknown keeps the title id and an empty position",
			src:  domain.EmployeeSources{EmployeeNumber: "1001", Person: anna(), Period: &period},
			want: domain.Employee{
				EmployeeNumber: "1001", FirstName: "Anna", Surname: "Lindström", NationalID: "19900312-1234",
				COAddress: "c/o Berg", StreetAddress: "Storgatan 1", PostalCode: "111 22", City: "Stockholm",
				Country: "Sverige", EmailWork: "anna@example.se", MobilePhonePrivate: "+46701234567",
				EmploymentStart: day("2023-01-01"), EmploymentEnd: day("2025-12-31"), FullName: "Anna Lindström",
				Flex: domain.FlexIDs{EmployeeID: "e-anna", CompanyID: "c-1", ManagerEmployeeID: "e-boss", EmploymentPeriodID: "p-2", TitleID: "t-dev"},
			},
		},
		{
			name: "a listing without a number asked for takes the record's first employment number",
			src: domain.EmployeeSources{Person: domain.Person{
				ID: "e-x", CompanyID: "c-1", FirstName: "Ola", LastName: "Berg", EmploymentNumbers: []string{"77", "78"},
			}},
			want: domain.Employee{EmployeeNumber: "77", FirstName: "Ola", Surname: "Berg", FullName: "Ola Berg",
				Flex: domain.FlexIDs{EmployeeID: "e-x", CompanyID: "c-1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.MapEmployee(tt.src)
			if diff := cmp.Diff(tt.want, got, dateCmp); diff != "" {
				t.Fatalf("MapEmployee (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCurrentPeriod(t *testing.T) {
	today := day("2024-06-15")
	old := domain.Period{ID: "old", From: day("2020-01-01"), To: day("2022-12-31")}
	now := domain.Period{ID: "now", From: day("2023-01-01")}
	future := domain.Period{ID: "future", From: day("2025-01-01"), To: day("2025-12-31")}
	endsToday := domain.Period{ID: "ends-today", From: day("2024-01-01"), To: day("2024-06-15")}
	tests := []struct {
		name    string
		periods []domain.Period
		wantID  string
		wantOK  bool
	}{
		{name: "no periods means no current period", periods: nil},
		{name: "the open-ended period covering today wins over a later future one", periods: []domain.Period{old, future, now}, wantID: "now", wantOK: true},
		{name: "a period ending today still covers today", periods: []domain.Period{old, endsToday, future}, wantID: "ends-today", wantOK: true},
		{name: "without a covering period the latest start wins even in the future", periods: []domain.Period{old, future}, wantID: "future", wantOK: true},
		{name: "without a covering period a past one is used", periods: []domain.Period{old}, wantID: "old", wantOK: true},
		{
			name: "two covering periods resolve to the later start",
			periods: []domain.Period{
				{ID: "a", From: day("2024-01-01")},
				{ID: "b", From: day("2024-03-01"), To: day("2024-12-31")},
			},
			wantID: "b", wantOK: true,
		},
		{
			name: "equal starts resolve to the smallest id, as libs/flexhrm does",
			periods: []domain.Period{
				{ID: "z", From: day("2022-01-01"), To: day("2022-12-31")},
				{ID: "a", From: day("2022-01-01"), To: day("2022-06-01")},
			},
			wantID: "a", wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.CurrentPeriod(tt.periods, today)
			if ok != tt.wantOK || got.ID != tt.wantID {
				t.Fatalf("CurrentPeriod = %q, %v; want %q, %v", got.ID, ok, tt.wantID, tt.wantOK)
			}
		})
	}
}

func TestMatchTitle(t *testing.T) {
	titles := []domain.Title{
		{ID: "t-3", CompanyID: "c-1", Name: "developer", Active: true},
		{ID: "t-2", CompanyID: "c-1", Name: "Developer", Active: true},
		{ID: "t-1", CompanyID: "c-1", Name: "Manager", Active: false},
		{ID: "t-4", CompanyID: "c-2", Name: "Designer", Active: true},
		{ID: "t-5", CompanyID: "c-1", Name: "  Tester ", Active: true},
	}
	tests := []struct {
		name     string
		company  string
		position string
		wantID   string
	}{
		{name: "a name in another case matches, the lowest id first", company: "c-1", position: "DEVELOPER", wantID: "t-2"},
		{name: "the exact case wins among several matches", company: "c-1", position: "Developer", wantID: "t-2"},
		{name: "surrounding spaces are ignored on both sides", company: "c-1", position: " tester", wantID: "t-5"},
		{name: "an inactive title does not match", company: "c-1", position: "Manager"},
		{name: "a title of another company does not match", company: "c-1", position: "Designer"},
		{name: "an empty position matches nothing", company: "c-1", position: "  "},
		{name: "an unknown position matches nothing", company: "c-1", position: "Astronaut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.MatchTitle(titles, tt.company, tt.position)
			if ok != (tt.wantID != "") || got.ID != tt.wantID {
				t.Fatalf("MatchTitle = %q, %v; want %q", got.ID, ok, tt.wantID)
			}
		})
	}
}

func TestTitleByID(t *testing.T) {
	titles := []domain.Title{{ID: "t-1", Name: "Retired", Active: false}}
	if got, ok := domain.TitleByID(titles, "t-1"); !ok || got.Name != "Retired" {
		t.Fatalf("an inactive title is still found by id: got %+v, %v", got, ok)
	}
	if _, ok := domain.TitleByID(titles, ""); ok {
		t.Fatal("an empty id must find nothing")
	}
}

func TestParseUpdateMask(t *testing.T) {
	tests := []struct {
		name       string
		paths      []string
		want       []domain.Field
		wantReason string
	}{
		{name: "writable paths come back in message order without duplicates",
			paths: []string{"city", "first_name", "city"}, want: []domain.Field{domain.FieldFirstName, domain.FieldCity}},
		{name: "JSON spellings are accepted", paths: []string{"emailWork", "mobilePhonePrivate"},
			want: []domain.Field{domain.FieldEmailWork, domain.FieldMobilePhonePrivate}},
		{name: "an empty mask is refused", paths: nil, wantReason: "name at least one field to write"},
		{name: "the position is refused with a pointer to UpsertEmploymentPeriod", paths: []string{"position"},
			wantReason: `"position" belongs to the employment period: use UpsertEmploymentPeriod`},
		{name: "the manager is refused as derived", paths: []string{"immediate_manager_name"},
			wantReason: `"immediate_manager_name" is derived by Flex HRM and cannot be written`},
		{name: "a Flex id is refused", paths: []string{"flex.employee_id"},
			wantReason: `"flex.employee_id" holds Flex HRM identifiers and cannot be written`},
		{name: "the employee number is refused as the key", paths: []string{"employee_number"},
			wantReason: `"employee_number" is the key and cannot be changed`},
		{name: "an unknown path is refused", paths: []string{"salary"}, wantReason: `"salary" is not a field of Employee`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseUpdateMask(tt.paths)
			if tt.wantReason != "" {
				var fe *domain.InvalidFieldError
				if !errors.As(err, &fe) || fe.Field != "update_mask" || fe.Reason != tt.wantReason {
					t.Fatalf("err = %v; want update_mask: %s", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyFields(t *testing.T) {
	tests := []struct {
		name        string
		values      domain.Employee
		fields      []domain.Field
		wantChanged []domain.Field
		wantPerson  func(*domain.Person)
	}{
		{
			name:        "only masked fields that differ are changed",
			values:      domain.Employee{FirstName: "Anna", City: "Göteborg", Country: "Norge"},
			fields:      []domain.Field{domain.FieldFirstName, domain.FieldCity},
			wantChanged: []domain.Field{domain.FieldCity},
			wantPerson:  func(p *domain.Person) { p.City = "Göteborg" },
		},
		{
			name:        "identical values change nothing",
			values:      domain.Employee{EmailWork: "anna@example.se", MobilePhonePrivate: "+46701234567"},
			fields:      []domain.Field{domain.FieldEmailWork, domain.FieldMobilePhonePrivate},
			wantChanged: nil,
			wantPerson:  func(*domain.Person) {},
		},
		{
			name:        "surrounding spaces are not a change",
			values:      domain.Employee{Surname: " Lindström  "},
			fields:      []domain.Field{domain.FieldSurname},
			wantChanged: nil,
			wantPerson:  func(*domain.Person) {},
		},
		{
			name:        "an empty masked value clears the field",
			values:      domain.Employee{},
			fields:      []domain.Field{domain.FieldCOAddress},
			wantChanged: []domain.Field{domain.FieldCOAddress},
			wantPerson:  func(p *domain.Person) { p.AddressRow1 = "" },
		},
		{
			name: "every writable field lands in its Flex property",
			values: domain.Employee{FirstName: "A", Surname: "B", NationalID: "C", COAddress: "D", StreetAddress: "E",
				PostalCode: "F", City: "G", Country: "H", EmailWork: "I", MobilePhonePrivate: "J"},
			fields:      domain.WritableFields(),
			wantChanged: domain.WritableFields(),
			wantPerson: func(p *domain.Person) {
				p.FirstName, p.LastName, p.NationalID, p.AddressRow1, p.AddressRow2 = "A", "B", "C", "D", "E"
				p.PostalCode, p.City, p.Country, p.EmailWork, p.Phone4 = "F", "G", "H", "I", "J"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := anna()
			tt.wantPerson(&want)
			got, changed := domain.ApplyFields(anna(), tt.values, tt.fields)
			if diff := cmp.Diff(tt.wantChanged, changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("person (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanPeriodUpsert(t *testing.T) {
	owner := anna()
	existing := []domain.Period{
		{ID: "p-1", CompanyID: "c-1", EmployeeID: "e-anna", From: day("2020-01-01"), To: day("2022-12-31"), TitleID: "t-old"},
		{ID: "p-2", CompanyID: "c-1", EmployeeID: "e-anna", From: day("2023-01-01"), TitleID: "t-dev", EmploymentTypeID: "et-1"},
		{ID: "p-x", CompanyID: "c-2", EmployeeID: "e-anna", From: day("2024-01-01")},
	}
	tests := []struct {
		name       string
		change     domain.PeriodChange
		want       domain.PeriodPlan
		wantReason string
	}{
		{
			name:   "the same start date updates that period's end and title",
			change: domain.PeriodChange{From: day("2023-01-01"), To: day("2024-12-31"), TitleID: "t-lead"},
			want: domain.PeriodPlan{Action: domain.PeriodUpdate, Period: domain.Period{ID: "p-2", CompanyID: "c-1", EmployeeID: "e-anna",
				From: day("2023-01-01"), To: day("2024-12-31"), TitleID: "t-lead", EmploymentTypeID: "et-1"}},
		},
		{
			name:   "an unmatched title keeps the period's title",
			change: domain.PeriodChange{From: day("2023-01-01"), To: day("2024-12-31")},
			want: domain.PeriodPlan{Action: domain.PeriodUpdate, Period: domain.Period{ID: "p-2", CompanyID: "c-1", EmployeeID: "e-anna",
				From: day("2023-01-01"), To: day("2024-12-31"), TitleID: "t-dev", EmploymentTypeID: "et-1"}},
		},
		{
			name:   "a period that already says the same is unchanged",
			change: domain.PeriodChange{From: day("2023-01-01"), TitleID: "t-dev"},
			want:   domain.PeriodPlan{Action: domain.PeriodUnchanged, Period: existing[1]},
		},
		{
			name:   "an empty end date on an update makes the period open-ended",
			change: domain.PeriodChange{From: day("2020-01-01")},
			want: domain.PeriodPlan{Action: domain.PeriodUpdate, Period: domain.Period{ID: "p-1", CompanyID: "c-1", EmployeeID: "e-anna",
				From: day("2020-01-01"), TitleID: "t-old"}},
		},
		{
			name:   "a new start date creates a period in the employee's company",
			change: domain.PeriodChange{From: day("2025-01-01"), To: day("2025-06-30"), TitleID: "t-dev"},
			want: domain.PeriodPlan{Action: domain.PeriodCreate, Period: domain.Period{CompanyID: "c-1", EmployeeID: "e-anna", InstanceID: "i-1",
				From: day("2025-01-01"), To: day("2025-06-30"), TitleID: "t-dev"}},
		},
		{
			name:   "a period of another company with the same start is not reused",
			change: domain.PeriodChange{From: day("2024-01-01")},
			want: domain.PeriodPlan{Action: domain.PeriodCreate, Period: domain.Period{CompanyID: "c-1", EmployeeID: "e-anna", InstanceID: "i-1",
				From: day("2024-01-01")}},
		},
		{name: "a missing start date is refused", change: domain.PeriodChange{}, wantReason: "from_date: is required"},
		{name: "an end before the start is refused", change: domain.PeriodChange{From: day("2024-02-01"), To: day("2024-01-31")},
			wantReason: "to_date: is before from_date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.PlanPeriodUpsert(existing, owner, tt.change)
			if tt.wantReason != "" {
				var fe *domain.InvalidFieldError
				if !errors.As(err, &fe) || fe.Error() != tt.wantReason {
					t.Fatalf("err = %v, want %s", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, dateCmp, cmpopts.EquateComparable(domain.Period{})); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOverlappingPeriods(t *testing.T) {
	existing := []domain.Period{
		{ID: "p-1", CompanyID: "c-1", From: day("2020-01-01"), To: day("2022-12-31")},
		{ID: "p-2", CompanyID: "c-1", From: day("2023-01-01")},
		{ID: "p-3", CompanyID: "c-2", From: day("2019-01-01")},
	}
	tests := []struct {
		name      string
		candidate domain.Period
		wantIDs   []string
	}{
		{name: "a period touching the last day of another overlaps it (inclusive ends)",
			candidate: domain.Period{CompanyID: "c-1", From: day("2022-12-31"), To: day("2022-12-31")}, wantIDs: []string{"p-1"}},
		{name: "an open-ended period overlaps every later one",
			candidate: domain.Period{CompanyID: "c-1", From: day("2021-06-01")}, wantIDs: []string{"p-1", "p-2"}},
		{name: "a period before all others overlaps none",
			candidate: domain.Period{CompanyID: "c-1", From: day("2010-01-01"), To: day("2019-12-31")}},
		{name: "the period being updated does not overlap itself",
			candidate: domain.Period{ID: "p-2", CompanyID: "c-1", From: day("2023-01-01"), To: day("2030-01-01")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, p := range domain.OverlappingPeriods(existing, tt.candidate) {
				ids = append(ids, p.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDateCompareAndTime(t *testing.T) {
	a, b := day("2024-01-31"), day("2024-02-01")
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Fatal("Compare orders days")
	}
	if !domain.NewDate(2024, time.February, 1).Time().Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("Time is midnight UTC")
	}
	if !(domain.Date{}).Time().IsZero() {
		t.Fatal("the unset date has the zero time")
	}
}

func TestErrorsNeverEchoValues(t *testing.T) {
	err := &domain.AmbiguousEmployeeError{EmployeeNumber: "1001", Companies: []string{"Acme AB (c-1)", "Beta AB (c-2)"}}
	want := "employee number 1001 exists in several Flex HRM companies (Acme AB (c-1), Beta AB (c-2)): pass company_id"
	if err.Error() != want {
		t.Fatalf("got %q", err.Error())
	}
	up := &domain.UpstreamRejectedError{Code: "ValidationFailed", Fields: []string{"postalCode"}}
	if up.Error() != "Flex HRM refused the write (ValidationFailed): invalid postalCode" {
		t.Fatalf("got %q", up.Error())
	}
}
