package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// UpsertPeriodCommand is the employment period a signed contract implies.
type UpsertPeriodCommand struct {
	EmployeeNumber string
	CompanyID      string
	// FromDate is `YYYY-MM-DD` and required; ToDate empty means open-ended.
	FromDate string
	ToDate   string
	// Position is matched to an active title of the employee's company.
	Position string
}

// PeriodOutcome says what UpsertEmploymentPeriod did.
type PeriodOutcome int

// The outcomes of UpsertEmploymentPeriod.
const (
	PeriodCreated PeriodOutcome = iota + 1
	PeriodUpdated
	PeriodOverlapSkipped
	PeriodUnchanged
)

// String names the outcome for logs.
func (o PeriodOutcome) String() string {
	switch o {
	case PeriodCreated:
		return "created"
	case PeriodUpdated:
		return "updated"
	case PeriodOverlapSkipped:
		return "overlap_skipped"
	case PeriodUnchanged:
		return "unchanged"
	default:
		return fmt.Sprintf("PeriodOutcome(%d)", int(o))
	}
}

// UpsertPeriodResult reports the outcome.
type UpsertPeriodResult struct {
	Outcome PeriodOutcome
	// PeriodID is the created, updated or unchanged period; empty when skipped.
	PeriodID string
	// TitleID is the matched title written; empty when none matched.
	TitleID string
	// Warnings are free of personal data.
	Warnings []string
}

// UpsertEmploymentPeriod updates the employee's period that starts on
// FromDate, or creates one, with the position resolved to an active title of
// the employee's company. An unmatched position is a warning; an overlap
// refusal is the OVERLAP_SKIPPED outcome, not an error. It always reads
// fresh and drops the cached employee view.
func (d *Directory) UpsertEmploymentPeriod(ctx context.Context, cmd UpsertPeriodCommand) (UpsertPeriodResult, error) {
	number, companyID, err := normaliseKey(cmd.EmployeeNumber, cmd.CompanyID)
	if err != nil {
		return UpsertPeriodResult{}, err
	}
	change, err := parsePeriodDates(cmd.FromDate, cmd.ToDate)
	if err != nil {
		return UpsertPeriodResult{}, err
	}
	position := strings.TrimSpace(cmd.Position)

	person, err := d.employees.FindEmployee(ctx, number, companyID)
	if err != nil {
		return UpsertPeriodResult{}, fmt.Errorf("find employee number %s: %w", number, err)
	}
	defer d.forgetEmployee(number, companyID, person.CompanyID)

	var (
		periods []domain.Period
		titles  []domain.Title
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		periods, err = d.periods.ListEmploymentPeriods(gctx, person.ID)
		if err != nil {
			return fmt.Errorf("list employment periods of employee %s: %w", person.ID, err)
		}
		return nil
	})
	if position != "" {
		g.Go(func() error {
			var err error
			titles, err = d.companyTitles(gctx, person.CompanyID)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return UpsertPeriodResult{}, err
	}

	var res UpsertPeriodResult
	if position != "" {
		if title, ok := domain.MatchTitle(titles, person.CompanyID, position); ok {
			change.TitleID = title.ID
			res.TitleID = title.ID
		} else {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"position %q matches no active title of the employee's company; the period was written without a title change", position))
		}
	}

	plan, err := domain.PlanPeriodUpsert(periods, person, change)
	if err != nil {
		return UpsertPeriodResult{}, err
	}
	var written domain.Period
	switch plan.Action {
	case domain.PeriodUnchanged:
		res.Outcome, res.PeriodID = PeriodUnchanged, plan.Period.ID
		return res, nil
	case domain.PeriodCreate:
		written, err = d.periods.CreateEmploymentPeriod(ctx, plan.Period)
		res.Outcome = PeriodCreated
	case domain.PeriodUpdate:
		written, err = d.periods.UpdateEmploymentPeriod(ctx, plan.Period)
		res.Outcome = PeriodUpdated
	}
	switch {
	case errors.Is(err, domain.ErrOverlappingDates):
		res.Outcome, res.TitleID = PeriodOverlapSkipped, ""
		res.Warnings = append(res.Warnings, overlapWarning(periods, plan.Period))
		d.logger.WarnContext(ctx, "Flex HRM refused overlapping employment period; skipped",
			"employee_id", person.ID, "action", plan.Action.String(), "period", plan.Period.Span())
		return res, nil
	case err != nil:
		return UpsertPeriodResult{}, fmt.Errorf("%s employment period of employee %s: %w", plan.Action, person.ID, err)
	}
	res.PeriodID = written.ID
	if res.PeriodID == "" {
		res.PeriodID = plan.Period.ID
	}
	d.logger.InfoContext(ctx, "employment period written to Flex HRM",
		"employee_id", person.ID, "employment_period_id", res.PeriodID, "outcome", res.Outcome.String())
	return res, nil
}

// parsePeriodDates reads the request's dates, naming the bad field.
func parsePeriodDates(from, to string) (domain.PeriodChange, error) {
	fromDate, err := domain.ParseDate(strings.TrimSpace(from))
	if err != nil {
		return domain.PeriodChange{}, &domain.InvalidFieldError{Field: "from_date", Reason: "must be a YYYY-MM-DD date"}
	}
	if fromDate.IsZero() {
		return domain.PeriodChange{}, &domain.InvalidFieldError{Field: "from_date", Reason: "is required"}
	}
	toDate, err := domain.ParseDate(strings.TrimSpace(to))
	if err != nil {
		return domain.PeriodChange{}, &domain.InvalidFieldError{Field: "to_date", Reason: "must be a YYYY-MM-DD date or empty"}
	}
	return domain.PeriodChange{From: fromDate, To: toDate}, nil
}

// overlapWarning explains the refusal with the periods in the way, when the
// periods read before the write show them.
func overlapWarning(existing []domain.Period, candidate domain.Period) string {
	msg := "Flex HRM refused the employment period " + candidate.Span() + " because it overlaps another period; nothing was written"
	if in := domain.OverlappingPeriods(existing, candidate); len(in) > 0 {
		spans := make([]string, len(in))
		for i, p := range in {
			spans[i] = p.Span()
		}
		msg += " (overlaps " + strings.Join(spans, ", ") + ")"
	}
	return msg
}
