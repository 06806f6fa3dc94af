package flexhrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// FindEmployees returns the employees with that employment number (P1),
// across every company the API user sees, or in one company when companyID
// is set. An empty result is not an error here; FindEmployee makes it one.
func (c *Client) FindEmployees(ctx context.Context, employmentNumber, companyID string) ([]Employee, error) {
	const op = "find employees"
	if employmentNumber == "" {
		return nil, invalidInput(op, errors.New("employment number is empty"))
	}
	all, err := listAll[Employee](ctx, c, op, c.paths.FindEmployees, vars{"employmentNumber": employmentNumber, "companyId": companyID})
	if err != nil {
		return nil, err
	}
	// A server that matched loosely must not hand us somebody else (gaps.go).
	out := all[:0]
	for _, e := range all {
		if len(e.Employment) == 0 || e.HasEmploymentNumber(employmentNumber) {
			out = append(out, e)
		}
	}
	return out, nil
}

// FindEmployee returns the one employee with that employment number. None:
// an error wrapping ErrNotFound. Several (numbers are unique per company
// only): *AmbiguousEmployeeError naming the companies.
func (c *Client) FindEmployee(ctx context.Context, employmentNumber, companyID string) (Employee, error) {
	found, err := c.FindEmployees(ctx, employmentNumber, companyID)
	if err != nil {
		return Employee{}, err
	}
	switch len(found) {
	case 0:
		return Employee{}, fmt.Errorf("flexhrm: find employee: no employee has employment number %s: %w", strconv.Quote(employmentNumber), ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Employee{}, c.ambiguous(ctx, employmentNumber, found)
}

// ambiguous names the companies of the matches. Looking their names up is
// best effort: without them the error still names the company ids.
func (c *Client) ambiguous(ctx context.Context, employmentNumber string, found []Employee) error {
	var ids []string
	for _, e := range found {
		ids = append(ids, e.CompanyID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	byID := map[string]Company{}
	if companies, err := c.ListCompanies(ctx); err == nil {
		for _, co := range companies {
			byID[co.ID] = co
		}
	} else {
		c.logger.WarnContext(ctx, "flexhrm: naming the companies of an ambiguous employment number failed", "error", err.Error())
	}
	refs := make([]CompanyRef, 0, len(ids))
	for _, id := range ids {
		if co, ok := byID[id]; ok {
			refs = append(refs, co.Ref())
		} else {
			refs = append(refs, CompanyRef{ID: id})
		}
	}
	return &AmbiguousEmployeeError{EmploymentNumber: employmentNumber, Companies: refs}
}

// GetEmployee reads one employee by id (P2); also how a manager is resolved.
func (c *Client) GetEmployee(ctx context.Context, id string) (Employee, error) {
	return get[Employee](ctx, c, "get employee", c.paths.GetEmployee, vars{"id": id})
}

// UpdateEmployee writes the whole employee (P3): read it, change it, pass it
// here. It is never retried automatically. Returns the stored employee.
func (c *Client) UpdateEmployee(ctx context.Context, e Employee) (Employee, error) {
	const op = "update employee"
	updated, status, err := write[Employee](ctx, c, op, http.MethodPut, c.paths.UpdateEmployee, vars{"id": e.ID}, e)
	if err != nil {
		return Employee{}, err
	}
	if status == http.StatusNoContent || updated.ID == "" {
		return c.GetEmployee(ctx, e.ID)
	}
	return updated, nil
}

// ListEmployees reads one page of employees, of one company when companyID
// is set (gap: P1 without an employment number). pageSize 0 means
// DefaultPageSize; it must not exceed MaxPageSize.
func (c *Client) ListEmployees(ctx context.Context, companyID string, pageIndex, pageSize int) (Page[Employee], error) {
	const op = "list employees"
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	if pageIndex < 0 || pageSize < 1 || pageSize > MaxPageSize {
		return Page[Employee]{}, invalidInput(op, fmt.Errorf("page index must be ≥ 0 and page size 1..%d", MaxPageSize))
	}
	items, shape, err := getPage[Employee](ctx, c, op, c.paths.ListEmployees, vars{
		"companyId": companyID, "pageIndex": strconv.Itoa(pageIndex), "pageSize": strconv.Itoa(pageSize),
	})
	if err != nil {
		return Page[Employee]{}, err
	}
	page := Page[Employee]{PageIndex: pageIndex, PageSize: pageSize, TotalCount: shape.totalCount, Items: items}
	if shape.pageIndex >= 0 {
		page.PageIndex = shape.pageIndex
	}
	if shape.pageSize > 0 {
		page.PageSize = shape.pageSize
	}
	return page, nil
}

// Manager reads the employee's immediate manager (P2 on
// immediateManagerEmployeeId). The model treats a missing manager as a
// warning, not a failure: no manager set is ErrNoManager, a manager id that
// does not resolve is ErrNotFound; both are for the caller to record and
// move on. Other errors are the read's.
func (c *Client) Manager(ctx context.Context, e Employee) (Employee, error) {
	if e.ImmediateManagerEmployeeID == "" {
		return Employee{}, ErrNoManager
	}
	return c.GetEmployee(ctx, e.ImmediateManagerEmployeeID)
}
