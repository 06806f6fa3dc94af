package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// UpdateEmployeeCommand writes the masked fields of Values.
type UpdateEmployeeCommand struct {
	EmployeeNumber string
	CompanyID      string
	Values         domain.Employee
	// Mask names the fields to write (protobuf or JSON names).
	Mask []string
}

// UpdateEmployeeResult is the stored employee and the fields that changed.
type UpdateEmployeeResult struct {
	Employee domain.Employee
	// Changed is empty when nothing differed and no PUT was made.
	Changed []domain.Field
}

// UpdateEmployee validates the mask and values, reads the employee fresh
// (never from the cache), writes only when a masked field differs, and
// drops the cached view. Periods, manager and titles for the answer are read
// while the write is in flight.
func (d *Directory) UpdateEmployee(ctx context.Context, cmd UpdateEmployeeCommand) (UpdateEmployeeResult, error) {
	number, companyID, err := normaliseKey(cmd.EmployeeNumber, cmd.CompanyID)
	if err != nil {
		return UpdateEmployeeResult{}, err
	}
	fields, err := domain.ParseUpdateMask(cmd.Mask)
	if err != nil {
		return UpdateEmployeeResult{}, err
	}
	if slices.Contains(fields, domain.FieldNationalID) {
		if id := strings.TrimSpace(cmd.Values.NationalID); id != "" {
			if err := d.validate(id); err != nil {
				return UpdateEmployeeResult{}, &domain.InvalidFieldError{
					Field: string(domain.FieldNationalID), Reason: "is not a valid Swedish personnummer or samordningsnummer",
				}
			}
		}
	}

	found, err := d.employees.FindEmployee(ctx, number, companyID)
	if err != nil {
		return UpdateEmployeeResult{}, fmt.Errorf("find employee number %s: %w", number, err)
	}
	defer d.forgetEmployee(number, companyID, found.CompanyID)

	var (
		stored  domain.Person
		changed []domain.Field
		r       related
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		stored, err = d.employees.UpdateEmployee(gctx, found.ID, func(current domain.Person) (domain.Person, bool, error) {
			next, diff := domain.ApplyFields(current, cmd.Values, fields)
			changed = diff
			return next, len(diff) > 0, nil
		})
		if err != nil {
			return fmt.Errorf("update employee %s: %w", found.ID, err)
		}
		return nil
	})
	g.Go(func() error {
		var err error
		r, err = d.gatherRelated(gctx, found, true)
		return err
	})
	if err := g.Wait(); err != nil {
		return UpdateEmployeeResult{}, err
	}
	if len(changed) > 0 {
		names := make([]string, len(changed))
		for i, f := range changed {
			names[i] = string(f)
		}
		d.logger.InfoContext(ctx, "employee updated in Flex HRM", "employee_id", found.ID, "changed_fields", names)
	}
	e, err := d.mapEmployee(ctx, number, stored, r)
	if err != nil {
		return UpdateEmployeeResult{}, err
	}
	return UpdateEmployeeResult{Employee: e, Changed: changed}, nil
}
