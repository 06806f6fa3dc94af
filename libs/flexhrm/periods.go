package flexhrm

import (
	"context"
	"errors"
	"net/http"
)

// ListEmploymentPeriods returns all of an employee's employment periods (P4).
func (c *Client) ListEmploymentPeriods(ctx context.Context, employeeID string) ([]EmploymentPeriod, error) {
	const op = "list employment periods"
	if employeeID == "" {
		return nil, invalidInput(op, errors.New("employee id is empty"))
	}
	return listAll[EmploymentPeriod](ctx, c, op, c.paths.ListEmploymentPeriods, vars{"employeeId": employeeID})
}

// CreateEmploymentPeriod creates a period (P5) and returns it with its id.
// Never retried: look before you write. An overlap with another period of
// the employee is ErrOverlappingDates.
func (c *Client) CreateEmploymentPeriod(ctx context.Context, p EmploymentPeriod) (EmploymentPeriod, error) {
	const op = "create employment period"
	if err := checkPeriod(p); err != nil {
		return EmploymentPeriod{}, invalidInput(op, err)
	}
	created, _, err := write[EmploymentPeriod](ctx, c, op, http.MethodPost, c.paths.CreateEmploymentPeriod, vars{}, p)
	if err != nil {
		return EmploymentPeriod{}, err
	}
	if created.ID == "" {
		return EmploymentPeriod{}, &APIError{Op: op, Status: http.StatusCreated, Message: "the answer carries no period id", kinds: []error{ErrUnexpectedResponse}}
	}
	return created, nil
}

// UpdateEmploymentPeriod writes a whole period (P6). Never retried.
func (c *Client) UpdateEmploymentPeriod(ctx context.Context, p EmploymentPeriod) (EmploymentPeriod, error) {
	const op = "update employment period"
	if err := checkPeriod(p); err != nil {
		return EmploymentPeriod{}, invalidInput(op, err)
	}
	updated, status, err := write[EmploymentPeriod](ctx, c, op, http.MethodPut, c.paths.UpdateEmploymentPeriod, vars{"id": p.ID}, p)
	if err != nil {
		return EmploymentPeriod{}, err
	}
	if status == http.StatusNoContent || updated.ID == "" {
		periods, err := c.ListEmploymentPeriods(ctx, p.EmployeeID)
		if err != nil {
			return EmploymentPeriod{}, err
		}
		for _, q := range periods {
			if q.ID == p.ID {
				return q, nil
			}
		}
		return EmploymentPeriod{}, &APIError{Op: op, Status: status, Message: "the updated period is not listed", kinds: []error{ErrUnexpectedResponse}}
	}
	return updated, nil
}

// checkPeriod refuses what cannot be a period before any request is made:
// the model's required fields and an end before the start.
func checkPeriod(p EmploymentPeriod) error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"companyId", p.CompanyID}, {"employeeId", p.EmployeeID}, {"instanceId", p.InstanceID},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if p.FromDate.IsZero() {
		missing = append(missing, "fromDate")
	}
	if len(missing) > 0 {
		return errors.New("required fields are empty: " + joinNames(missing))
	}
	if !p.FromDate.valid() || (p.ToDate != nil && !p.ToDate.IsZero() && !p.ToDate.valid()) {
		return errors.New("fromDate or toDate is not a calendar date")
	}
	if p.ToDate != nil && !p.ToDate.IsZero() && p.ToDate.Before(p.FromDate) {
		return errors.New("toDate is before fromDate")
	}
	return nil
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
