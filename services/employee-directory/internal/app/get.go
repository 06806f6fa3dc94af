package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// GetEmployeeQuery names one employee.
type GetEmployeeQuery struct {
	EmployeeNumber string
	// CompanyID narrows the lookup; empty searches every visible company.
	CompanyID string
}

// GetEmployee returns the employee's mapped view. It may come from the short
// employee cache; concurrent identical queries share one upstream read.
func (d *Directory) GetEmployee(ctx context.Context, q GetEmployeeQuery) (domain.Employee, error) {
	number, companyID, err := normaliseKey(q.EmployeeNumber, q.CompanyID)
	if err != nil {
		return domain.Employee{}, err
	}
	e, _, err := d.employeeCache.Get(ctx, employeeKey(companyID, number), func(ctx context.Context) (domain.Employee, error) {
		return d.readEmployee(ctx, number, companyID)
	})
	return e, err
}

// readEmployee is the uncached read: find the employee (one round trip), then
// its periods, manager and titles concurrently (the second).
func (d *Directory) readEmployee(ctx context.Context, number, companyID string) (domain.Employee, error) {
	person, err := d.employees.FindEmployee(ctx, number, companyID)
	if err != nil {
		return domain.Employee{}, fmt.Errorf("find employee number %s: %w", number, err)
	}
	r, err := d.gatherRelated(ctx, person, true)
	if err != nil {
		return domain.Employee{}, err
	}
	return d.mapEmployee(ctx, number, person, r)
}

// normaliseKey trims the lookup key and refuses an empty employee number.
func normaliseKey(number, companyID string) (string, string, error) {
	number, companyID = strings.TrimSpace(number), strings.TrimSpace(companyID)
	if number == "" {
		return "", "", &domain.InvalidFieldError{Field: "employee_number", Reason: "is required"}
	}
	return number, companyID, nil
}

// employeeKey is the employee cache's key.
func employeeKey(companyID, number string) string { return companyID + "\x00" + number }

// forgetEmployee drops every cached view a write may have made stale: the
// lookups with and without the company.
func (d *Directory) forgetEmployee(number string, companyIDs ...string) {
	keys := []string{employeeKey("", number)}
	for _, c := range companyIDs {
		if c != "" {
			keys = append(keys, employeeKey(c, number))
		}
	}
	d.employeeCache.Invalidate(keys...)
}
