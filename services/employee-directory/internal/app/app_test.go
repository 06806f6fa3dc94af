package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

func TestNewRefusesMissingDependencies(t *testing.T) {
	_, err := app.New(app.Deps{}, app.Options{})
	if err == nil || !strings.Contains(err.Error(), "Employees") || !strings.Contains(err.Error(), "ValidateNationalID") {
		t.Fatalf("err = %v", err)
	}
}

func TestGetEmployee(t *testing.T) {
	tests := []struct {
		name      string
		number    string
		company   string
		setup     func(*fakeFlex)
		check     func(t *testing.T, e domain.Employee)
		wantErr   error
		wantCalls map[string]int
	}{
		{
			name:   "an employee is mapped with its manager and current title",
			number: "1001",
			check: func(t *testing.T, e domain.Employee) {
				if e.ManagerName != "Bo Chef" || e.ManagerEmail != "bo@example.se" || e.Position != "Developer" ||
					e.EmploymentStart.String() != "2023-01-01" || e.EmploymentEnd.String() != "" || e.Flex.EmploymentPeriodID != "p-2" {
					t.Fatalf("got %+v", e)
				}
			},
			wantCalls: map[string]int{"find": 1, "get": 1, "periods": 1, "titles": 1},
		},
		{
			name:   "a manager Flex HRM no longer knows is left out without failing",
			number: "1002",
			check: func(t *testing.T, e domain.Employee) {
				if e.ManagerName != "" || e.Flex.ManagerEmployeeID != "e-gone" {
					t.Fatalf("got %+v", e)
				}
			},
			wantCalls: map[string]int{"find": 1, "get": 1, "periods": 1, "titles": 1},
		},
		{
			name:      "an employee without a manager costs no manager lookup",
			number:    "1000",
			check:     func(t *testing.T, e domain.Employee) {},
			wantCalls: map[string]int{"find": 1, "periods": 1, "titles": 1},
		},
		{
			name:   "a title created after the titles were cached is found by reloading once",
			number: "1001",
			setup: func(f *fakeFlex) {
				f.periods[1].TitleID = "t-new"
				f.titles = append(f.titles, domain.Title{ID: "t-new", CompanyID: "c-1", Name: "Architect", Active: true})
			},
			check: func(t *testing.T, e domain.Employee) {
				if e.Position != "Architect" {
					t.Fatalf("position = %q", e.Position)
				}
			},
		},
		{name: "an unknown number is not found", number: "9999", wantErr: domain.ErrEmployeeNotFound},
		{name: "an empty number is refused before Flex HRM is asked", number: " ", wantErr: &domain.InvalidFieldError{},
			wantCalls: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := seeded()
			if tt.setup != nil {
				tt.setup(f)
			}
			d := newDirectory(t, f, app.Options{})
			e, err := d.GetEmployee(t.Context(), app.GetEmployeeQuery{EmployeeNumber: tt.number, CompanyID: tt.company})
			if tt.wantErr != nil {
				var fe *domain.InvalidFieldError
				if _, wantField := tt.wantErr.(*domain.InvalidFieldError); wantField && !errors.As(err, &fe) {
					t.Fatalf("err = %v, want an InvalidFieldError", err)
				} else if !wantField && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				tt.check(t, e)
			}
			for op, n := range tt.wantCalls {
				if got := f.Calls(op); got != n {
					t.Errorf("%s calls = %d, want %d", op, got, n)
				}
			}
		})
	}
}

func TestEmployeeCacheAndTitleCache(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		numbers   []string
		wantFinds int
		wantTitle int
	}{
		{name: "with the employee cache a repeated read is served without Flex HRM", ttl: time.Minute,
			numbers: []string{"1001", "1001"}, wantFinds: 1, wantTitle: 1},
		{name: "with the employee cache off every read goes to Flex HRM but titles stay cached", ttl: 0,
			numbers: []string{"1001", "1001"}, wantFinds: 2, wantTitle: 1},
		{name: "titles are shared by employees of one company", ttl: time.Minute,
			numbers: []string{"1001", "1000"}, wantFinds: 2, wantTitle: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := seeded()
			d := newDirectory(t, f, app.Options{EmployeeCacheTTL: tt.ttl})
			for _, n := range tt.numbers {
				if _, err := d.GetEmployee(t.Context(), app.GetEmployeeQuery{EmployeeNumber: n}); err != nil {
					t.Fatal(err)
				}
			}
			if f.Calls("find") != tt.wantFinds || f.Calls("titles") != tt.wantTitle {
				t.Fatalf("finds = %d, titles = %d; want %d, %d", f.Calls("find"), f.Calls("titles"), tt.wantFinds, tt.wantTitle)
			}
		})
	}
}

func TestUpdateEmployee(t *testing.T) {
	tests := []struct {
		name        string
		cmd         app.UpdateEmployeeCommand
		wantChanged []domain.Field
		wantPuts    int
		wantField   string
		wantFinds   int
		check       func(t *testing.T, f *fakeFlex, res app.UpdateEmployeeResult)
	}{
		{
			name: "only the masked fields that differ are written",
			cmd: app.UpdateEmployeeCommand{EmployeeNumber: "1001",
				Values: domain.Employee{FirstName: "Anna", City: "Göteborg", Country: "ignored, not in the mask"},
				Mask:   []string{"first_name", "city"}},
			wantChanged: []domain.Field{domain.FieldCity}, wantPuts: 1, wantFinds: 1,
			check: func(t *testing.T, f *fakeFlex, res app.UpdateEmployeeResult) {
				stored := f.persons["e-anna"]
				if stored.City != "Göteborg" || stored.Country != "" || stored.FirstName != "Anna" {
					t.Fatalf("stored %+v", stored)
				}
				if res.Employee.City != "Göteborg" || res.Employee.Position != "Developer" || res.Employee.ManagerName != "Bo Chef" {
					t.Fatalf("answer %+v", res.Employee)
				}
			},
		},
		{
			name: "unchanged values make no PUT",
			cmd: app.UpdateEmployeeCommand{EmployeeNumber: "1001",
				Values: domain.Employee{City: "Stockholm", NationalID: "19900312-1234"}, Mask: []string{"city", "national_id"}},
			wantPuts: 0, wantFinds: 1,
		},
		{
			name: "an invalid national ID is refused before Flex HRM is asked",
			cmd: app.UpdateEmployeeCommand{EmployeeNumber: "1001",
				Values: domain.Employee{NationalID: "19900312-1235"}, Mask: []string{"national_id"}},
			wantField: "national_id",
		},
		{
			name: "an empty national ID clears it without validation",
			cmd: app.UpdateEmployeeCommand{EmployeeNumber: "1001",
				Values: domain.Employee{}, Mask: []string{"national_id"}},
			wantChanged: []domain.Field{domain.FieldNationalID}, wantPuts: 1, wantFinds: 1,
		},
		{
			name: "a read-only mask path is refused before Flex HRM is asked",
			cmd: app.UpdateEmployeeCommand{EmployeeNumber: "1001",
				Values: domain.Employee{Position: "Boss"}, Mask: []string{"position"}},
			wantField: "update_mask",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := seeded()
			d := newDirectory(t, f, app.Options{})
			res, err := d.UpdateEmployee(t.Context(), tt.cmd)
			if tt.wantField != "" {
				var fe *domain.InvalidFieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want an invalid %s", err, tt.wantField)
				}
				if strings.Contains(err.Error(), tt.cmd.Values.NationalID) && tt.cmd.Values.NationalID != "" {
					t.Fatal("the error repeats the national ID")
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantChanged, res.Changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			if got := f.Calls("put"); got != tt.wantPuts {
				t.Errorf("puts = %d, want %d", got, tt.wantPuts)
			}
			if got := f.Calls("find"); got != tt.wantFinds {
				t.Errorf("finds = %d, want %d", got, tt.wantFinds)
			}
			if tt.check != nil {
				tt.check(t, f, res)
			}
		})
	}
}

func TestWritesReadFreshAndDropTheCachedView(t *testing.T) {
	f := seeded()
	d := newDirectory(t, f, app.Options{EmployeeCacheTTL: time.Hour})
	get := func() domain.Employee {
		e, err := d.GetEmployee(t.Context(), app.GetEmployeeQuery{EmployeeNumber: "1001"})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	get()
	// Someone changes Flex HRM behind flexflow's back: the cache still answers.
	f.mu.Lock()
	p := f.persons["e-anna"]
	p.City = "Malmö"
	f.persons["e-anna"] = p
	f.mu.Unlock()
	if get().City != "Stockholm" {
		t.Fatal("expected the cached view")
	}
	res, err := d.UpdateEmployee(t.Context(), app.UpdateEmployeeCommand{EmployeeNumber: "1001",
		Values: domain.Employee{City: "Malmö"}, Mask: []string{"city"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 0 {
		t.Fatalf("the update read a stale employee: changed %v", res.Changed)
	}
	if got := get().City; got != "Malmö" {
		t.Fatalf("after a write the cached view is dropped: city = %q", got)
	}

	if _, err := d.UpsertEmploymentPeriod(t.Context(), app.UpsertPeriodCommand{EmployeeNumber: "1001",
		FromDate: "2023-01-01", ToDate: "2024-12-31"}); err != nil {
		t.Fatal(err)
	}
	if got := get().EmploymentEnd.String(); got != "2024-12-31" {
		t.Fatalf("after a period write the cached view is dropped: end = %q", got)
	}
}

func TestUpsertEmploymentPeriod(t *testing.T) {
	tests := []struct {
		name         string
		cmd          app.UpsertPeriodCommand
		overlap      bool
		want         app.UpsertPeriodResult
		wantWarning  string
		wantField    string
		wantCreates  int
		wantUpdates  int
		checkPeriods func(t *testing.T, periods []domain.Period)
	}{
		{
			name:        "the period with the same start date is updated with the matched title",
			cmd:         app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2023-01-01", ToDate: "2025-06-30", Position: "team lead"},
			want:        app.UpsertPeriodResult{Outcome: app.PeriodUpdated, PeriodID: "p-2", TitleID: "t-lead"},
			wantUpdates: 1,
			checkPeriods: func(t *testing.T, ps []domain.Period) {
				if ps[1].TitleID != "t-lead" || ps[1].To.String() != "2025-06-30" {
					t.Fatalf("stored %+v", ps[1])
				}
			},
		},
		{
			name:        "a new start date creates a period",
			cmd:         app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2026-01-01", Position: "Developer"},
			want:        app.UpsertPeriodResult{Outcome: app.PeriodCreated, PeriodID: "p-new-1", TitleID: "t-dev"},
			wantCreates: 1,
		},
		{
			name:        "an unmatched position writes the period without a title change and warns",
			cmd:         app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2023-01-01", ToDate: "2025-01-31", Position: "Astronaut"},
			want:        app.UpsertPeriodResult{Outcome: app.PeriodUpdated, PeriodID: "p-2"},
			wantWarning: `position "Astronaut" matches no active title`,
			wantUpdates: 1,
			checkPeriods: func(t *testing.T, ps []domain.Period) {
				if ps[1].TitleID != "t-dev" {
					t.Fatalf("title changed: %+v", ps[1])
				}
			},
		},
		{
			name: "an inactive title is not matched",
			cmd:  app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2020-01-01", ToDate: "2022-12-31", Position: "Programmer"},
			want: app.UpsertPeriodResult{Outcome: app.PeriodUnchanged, PeriodID: "p-1"}, wantWarning: "matches no active title",
		},
		{
			name: "a period that already says the same is unchanged and not written",
			cmd:  app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2023-01-01", Position: "developer"},
			want: app.UpsertPeriodResult{Outcome: app.PeriodUnchanged, PeriodID: "p-2", TitleID: "t-dev"},
		},
		{
			name:        "an overlap refusal is reported as skipped with the periods in the way",
			cmd:         app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2022-06-01", ToDate: "2023-06-30"},
			overlap:     true,
			want:        app.UpsertPeriodResult{Outcome: app.PeriodOverlapSkipped},
			wantWarning: "overlaps 2020-01-01..2022-12-31, 2023-01-01..open",
			wantCreates: 1,
		},
		{name: "a missing start date is refused", cmd: app.UpsertPeriodCommand{EmployeeNumber: "1001"}, wantField: "from_date"},
		{name: "a malformed end date is refused", cmd: app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2024-01-01", ToDate: "31/12/2024"}, wantField: "to_date"},
		{name: "an end before the start is refused", cmd: app.UpsertPeriodCommand{EmployeeNumber: "1001", FromDate: "2024-01-01", ToDate: "2023-12-31"}, wantField: "to_date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := seeded()
			f.overlapOnWrite = tt.overlap
			d := newDirectory(t, f, app.Options{})
			res, err := d.UpsertEmploymentPeriod(t.Context(), tt.cmd)
			if tt.wantField != "" {
				var fe *domain.InvalidFieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want an invalid %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warnings := res.Warnings
			res.Warnings = nil
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.wantWarning == "" && len(warnings) > 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
			if tt.wantWarning != "" && (len(warnings) == 0 || !strings.Contains(strings.Join(warnings, "|"), tt.wantWarning)) {
				t.Errorf("warnings %q, want one containing %q", warnings, tt.wantWarning)
			}
			if f.Calls("create period") != tt.wantCreates || f.Calls("update period") != tt.wantUpdates {
				t.Errorf("creates %d updates %d; want %d %d", f.Calls("create period"), f.Calls("update period"), tt.wantCreates, tt.wantUpdates)
			}
			if tt.checkPeriods != nil {
				tt.checkPeriods(t, f.periods)
			}
		})
	}
}

func TestListEmployees(t *testing.T) {
	f := seeded()
	for i := range 5 {
		id := "e-c2-" + string(rune('a'+i))
		f.persons[id] = domain.Person{ID: id, CompanyID: "c-2", FirstName: "P", LastName: id, EmploymentNumbers: []string{"3" + string(rune('0'+i))}}
	}
	// c-1 has 3 employees, c-2 has 6: 9 in total.
	d := newDirectory(t, f, app.Options{})
	var ids []string
	token := ""
	pages := 0
	for {
		page, err := d.ListEmployees(t.Context(), app.ListEmployeesQuery{PageSize: 4, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if page.TotalSize != 9 {
			t.Fatalf("page %d: total = %d, want 9", pages, page.TotalSize)
		}
		for _, e := range page.Employees {
			ids = append(ids, e.Flex.EmployeeID)
			if e.NationalID != "" || e.EmailWork != "" {
				t.Fatal("a listing carries identity only")
			}
		}
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	want := []string{"e-anna", "e-boss", "e-orphan", "e-beta", "e-c2-a", "e-c2-b", "e-c2-c", "e-c2-d", "e-c2-e"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("walk across companies (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Fatalf("pages = %d, want 3 full-as-possible pages", pages)
	}

	t.Run("a company filter lists only that company", func(t *testing.T) {
		page, err := d.ListEmployees(t.Context(), app.ListEmployeesQuery{CompanyID: "c-1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Employees) != 3 || page.TotalSize != 3 || page.NextPageToken != "" {
			t.Fatalf("got %+v", page)
		}
	})
	t.Run("a token of another filter is refused", func(t *testing.T) {
		first, err := d.ListEmployees(t.Context(), app.ListEmployeesQuery{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.ListEmployees(t.Context(), app.ListEmployeesQuery{PageSize: 1, PageToken: first.NextPageToken, CompanyID: "c-2"})
		var fe *domain.InvalidFieldError
		if !errors.As(err, &fe) || fe.Field != "page_token" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a forged token is refused", func(t *testing.T) {
		_, err := d.ListEmployees(t.Context(), app.ListEmployeesQuery{PageToken: "not-a-token"})
		var fe *domain.InvalidFieldError
		if !errors.As(err, &fe) || fe.Field != "page_token" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a negative page size is refused", func(t *testing.T) {
		_, err := d.ListEmployees(t.Context(), app.ListEmployeesQuery{PageSize: -1})
		var fe *domain.InvalidFieldError
		if !errors.As(err, &fe) || fe.Field != "page_size" {
			t.Fatalf("err = %v", err)
		}
	})
}
