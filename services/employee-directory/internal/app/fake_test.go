package app_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// fakeFlex is an in-memory Flex HRM behind the app's interfaces. It counts
// calls per operation so tests can assert what reached "upstream".
type fakeFlex struct {
	mu        sync.Mutex
	persons   map[string]domain.Person // by id
	periods   []domain.Period
	titles    []domain.Title
	companies []domain.Company
	calls     map[string]int
	nextID    int
	// overlapOnWrite makes every period write fail as Flex HRM's overlap refusal.
	overlapOnWrite bool
}

func newFakeFlex() *fakeFlex {
	return &fakeFlex{persons: map[string]domain.Person{}, calls: map[string]int{}}
}

func (f *fakeFlex) count(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
}

func (f *fakeFlex) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeFlex) FindEmployee(_ context.Context, number, companyID string) (domain.Person, error) {
	f.count("find")
	f.mu.Lock()
	defer f.mu.Unlock()
	var found []domain.Person
	for _, p := range f.persons {
		if slices.Contains(p.EmploymentNumbers, number) && (companyID == "" || p.CompanyID == companyID) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return domain.Person{}, domain.ErrEmployeeNotFound
	case 1:
		return found[0], nil
	}
	return domain.Person{}, &domain.AmbiguousEmployeeError{EmployeeNumber: number}
}

func (f *fakeFlex) GetEmployee(_ context.Context, id string) (domain.Person, error) {
	f.count("get")
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.persons[id]
	if !ok {
		return domain.Person{}, domain.ErrEmployeeNotFound
	}
	return p, nil
}

func (f *fakeFlex) ListEmployees(_ context.Context, companyID string, pageIndex, pageSize int) (app.PersonPage, error) {
	f.count("list")
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []domain.Person
	for _, p := range f.persons {
		if p.CompanyID == companyID {
			all = append(all, p)
		}
	}
	slices.SortFunc(all, func(a, b domain.Person) int { return cmp.Compare(a.ID, b.ID) })
	start := min(pageIndex*pageSize, len(all))
	end := min(start+pageSize, len(all))
	return app.PersonPage{Items: all[start:end], TotalCount: len(all)}, nil
}

func (f *fakeFlex) UpdateEmployee(ctx context.Context, id string, update func(domain.Person) (domain.Person, bool, error)) (domain.Person, error) {
	current, err := f.GetEmployee(ctx, id)
	if err != nil {
		return domain.Person{}, err
	}
	next, write, err := update(current)
	if err != nil || !write {
		return current, err
	}
	f.count("put")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.persons[id] = next
	return next, nil
}

func (f *fakeFlex) ListEmploymentPeriods(_ context.Context, employeeID string) ([]domain.Period, error) {
	f.count("periods")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []domain.Period
	for _, p := range f.periods {
		if p.EmployeeID == employeeID {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeFlex) CreateEmploymentPeriod(_ context.Context, p domain.Period) (domain.Period, error) {
	f.count("create period")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.overlapOnWrite {
		return domain.Period{}, fmt.Errorf("create: %w", domain.ErrOverlappingDates)
	}
	f.nextID++
	p.ID = fmt.Sprintf("p-new-%d", f.nextID)
	f.periods = append(f.periods, p)
	return p, nil
}

func (f *fakeFlex) UpdateEmploymentPeriod(_ context.Context, p domain.Period) (domain.Period, error) {
	f.count("update period")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.overlapOnWrite {
		return domain.Period{}, fmt.Errorf("update: %w", domain.ErrOverlappingDates)
	}
	for i := range f.periods {
		if f.periods[i].ID == p.ID {
			f.periods[i] = p
			return p, nil
		}
	}
	return domain.Period{}, errors.New("no such period")
}

func (f *fakeFlex) ListEmploymentTitles(_ context.Context, companyID string) ([]domain.Title, error) {
	f.count("titles")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []domain.Title
	for _, t := range f.titles {
		if t.CompanyID == companyID {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeFlex) ListCompanies(context.Context) ([]domain.Company, error) {
	f.count("companies")
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.companies), nil
}

func day(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// seeded is a small company with a manager, an employee and titles.
func seeded() *fakeFlex {
	f := newFakeFlex()
	f.companies = []domain.Company{{ID: "c-1", Name: "Acme AB"}, {ID: "c-2", Name: "Beta AB"}}
	for _, p := range []domain.Person{
		{ID: "e-boss", CompanyID: "c-1", FirstName: "Bo", LastName: "Chef", EmailWork: "bo@example.se", EmploymentNumbers: []string{"1000"}},
		{ID: "e-anna", CompanyID: "c-1", InstanceID: "i-1", FirstName: "Anna", LastName: "Lindström", ManagerID: "e-boss",
			NationalID: "19900312-1234", City: "Stockholm", EmailWork: "anna@example.se", EmploymentNumbers: []string{"1001"}},
		{ID: "e-orphan", CompanyID: "c-1", FirstName: "Olle", LastName: "Ensam", ManagerID: "e-gone", EmploymentNumbers: []string{"1002"}},
		{ID: "e-beta", CompanyID: "c-2", FirstName: "Bea", LastName: "Beta", EmploymentNumbers: []string{"2001"}},
	} {
		f.persons[p.ID] = p
	}
	f.titles = []domain.Title{
		{ID: "t-dev", CompanyID: "c-1", Name: "Developer", Active: true},
		{ID: "t-lead", CompanyID: "c-1", Name: "Team Lead", Active: true},
		{ID: "t-old", CompanyID: "c-1", Name: "Programmer", Active: false},
	}
	f.periods = []domain.Period{
		{ID: "p-1", CompanyID: "c-1", EmployeeID: "e-anna", From: day("2020-01-01"), To: day("2022-12-31"), TitleID: "t-old"},
		{ID: "p-2", CompanyID: "c-1", EmployeeID: "e-anna", From: day("2023-01-01"), TitleID: "t-dev"},
	}
	return f
}

func newDirectory(t testing.TB, f *fakeFlex, opts app.Options) *app.Directory {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC) }
	}
	d, err := app.New(app.Deps{
		Employees: f, Periods: f, Titles: f, Companies: f,
		ValidateNationalID: func(s string) error {
			if s == "19900312-1234" || s == "19121212-1212" {
				return nil
			}
			return errors.New("invalid")
		},
		Logger: slog.New(slog.DiscardHandler),
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
