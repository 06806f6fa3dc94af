// Package app holds employee-directory's use cases: GetEmployee,
// ListEmployees, UpdateEmployee and UpsertEmploymentPeriod. It orchestrates
// Flex HRM through the small interfaces below (implemented by
// internal/adapters), applies the pure rules of internal/domain, and owns the
// caches and the concurrency of upstream calls.
package app

import (
	"context"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// EmployeeRepository reads and writes Flex HRM employees. Errors are the
// typed errors of internal/domain.
type EmployeeRepository interface {
	// FindEmployee finds the one employee with the employment number, in
	// companyID or (empty) in every company the API user sees.
	FindEmployee(ctx context.Context, employeeNumber, companyID string) (domain.Person, error)
	// GetEmployee reads one employee by Flex HRM id.
	GetEmployee(ctx context.Context, id string) (domain.Person, error)
	// ListEmployees reads one page (0-based pageIndex) of a company's employees.
	ListEmployees(ctx context.Context, companyID string, pageIndex, pageSize int) (PersonPage, error)
	// UpdateEmployee reads the employee fresh, hands it to update, and writes
	// the result back when update says so. It returns the stored employee.
	// Keeping GET, change and PUT together lets the adapter re-send the
	// whole object it read, including properties the domain does not know.
	UpdateEmployee(ctx context.Context, id string, update func(current domain.Person) (next domain.Person, write bool, err error)) (domain.Person, error)
}

// PersonPage is one page of a company's employees.
type PersonPage struct {
	Items []domain.Person
	// TotalCount is the company's number of employees; negative when Flex
	// HRM did not say.
	TotalCount int
}

// PeriodRepository reads and writes employment periods.
type PeriodRepository interface {
	ListEmploymentPeriods(ctx context.Context, employeeID string) ([]domain.Period, error)
	CreateEmploymentPeriod(ctx context.Context, p domain.Period) (domain.Period, error)
	UpdateEmploymentPeriod(ctx context.Context, p domain.Period) (domain.Period, error)
}

// TitleSource lists every title of a company, active or not (a period may
// point at a retired title; matching a position uses active ones only).
type TitleSource interface {
	ListEmploymentTitles(ctx context.Context, companyID string) ([]domain.Title, error)
}

// CompanySource lists the companies the API user can see.
type CompanySource interface {
	ListCompanies(ctx context.Context) ([]domain.Company, error)
}

// NationalIDValidator says whether a value is a valid Swedish personnummer
// or samordningsnummer, so an invalid one is refused before Flex HRM is
// called. The error must not repeat the value.
type NationalIDValidator func(nationalID string) error
