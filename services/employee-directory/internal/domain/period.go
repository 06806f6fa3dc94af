package domain

import (
	"cmp"
	"fmt"
	"slices"
)

// Period is a Flex HRM employment period. A zero To means open-ended; both
// ends are inclusive.
type Period struct {
	ID               string
	CompanyID        string
	EmployeeID       string
	InstanceID       string
	From             Date
	To               Date
	TitleID          string
	EmploymentTypeID string
}

// Covers reports whether day lies within the period (inclusive).
func (p Period) Covers(day Date) bool {
	return p.From.Compare(day) <= 0 && (p.To.IsZero() || day.Compare(p.To) <= 0)
}

// Overlaps reports whether two periods share at least one day, the rule Flex
// HRM enforces between periods of one employee in one company.
func (p Period) Overlaps(o Period) bool {
	startsBeforeOtherEnds := o.To.IsZero() || p.From.Compare(o.To) <= 0
	otherStartsBeforeEnd := p.To.IsZero() || o.From.Compare(p.To) <= 0
	return startsBeforeOtherEnds && otherStartsBeforeEnd
}

// Span is the period's dates for messages, e.g. "2024-01-01..open".
func (p Period) Span() string {
	end := p.To.String()
	if end == "" {
		end = "open"
	}
	return p.From.String() + ".." + end
}

// CurrentPeriod picks the period the mapped position and dates come from: the
// one covering today, else the one with the latest start. Ties (which Flex
// HRM's overlap rule should prevent) go to the smallest id, the same rule as
// libs/flexhrm's CurrentPeriod, so every flexflow component agrees.
func CurrentPeriod(periods []Period, today Date) (Period, bool) {
	if len(periods) == 0 {
		return Period{}, false
	}
	var covering []Period
	for _, p := range periods {
		if p.Covers(today) {
			covering = append(covering, p)
		}
	}
	candidates := covering
	if len(candidates) == 0 {
		candidates = periods
	}
	return slices.MinFunc(candidates, func(a, b Period) int {
		if c := b.From.Compare(a.From); c != 0 {
			return c // the later start first
		}
		return cmp.Compare(a.ID, b.ID)
	}), true
}

// comparePeriods orders by start, then end (open-ended last), then id.
func comparePeriods(a, b Period) int {
	if c := a.From.Compare(b.From); c != 0 {
		return c
	}
	switch {
	case a.To.IsZero() && !b.To.IsZero():
		return 1
	case !a.To.IsZero() && b.To.IsZero():
		return -1
	}
	if c := a.To.Compare(b.To); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// PeriodChange is what a signed contract says about an employment period.
type PeriodChange struct {
	From Date
	// To is the last day; zero means open-ended.
	To Date
	// TitleID is the matched title; empty leaves an existing period's title
	// as it is and creates a new one without a title.
	TitleID string
}

// PeriodAction is what PlanPeriodUpsert decided.
type PeriodAction int

// The actions of a period upsert.
const (
	// PeriodCreate: no period of the company starts on From; create one.
	PeriodCreate PeriodAction = iota + 1
	// PeriodUpdate: the period starting on From differs; write it back.
	PeriodUpdate
	// PeriodUnchanged: the period starting on From already says this.
	PeriodUnchanged
)

// String names the action for logs.
func (a PeriodAction) String() string {
	switch a {
	case PeriodCreate:
		return "create"
	case PeriodUpdate:
		return "update"
	case PeriodUnchanged:
		return "unchanged"
	default:
		return fmt.Sprintf("PeriodAction(%d)", int(a))
	}
}

// PeriodPlan is the write PlanPeriodUpsert decided on. Period is the object to
// create or update (for PeriodUnchanged, the existing one).
type PeriodPlan struct {
	Action PeriodAction
	Period Period
}

// PlanPeriodUpsert applies the sign flow's rule: the employee's period in its
// own company with the same start date is updated (end date, and the title
// when one matched), else a new period is created; a period that already
// says the same is left alone. It refuses a missing start and an end before
// the start, which Flex HRM would refuse anyway.
func PlanPeriodUpsert(existing []Period, owner Person, change PeriodChange) (PeriodPlan, error) {
	if change.From.IsZero() {
		return PeriodPlan{}, &InvalidFieldError{Field: "from_date", Reason: "is required"}
	}
	if !change.To.IsZero() && change.To.Compare(change.From) < 0 {
		return PeriodPlan{}, &InvalidFieldError{Field: "to_date", Reason: "is before from_date"}
	}
	var sameStart []Period
	for _, p := range existing {
		if p.CompanyID != owner.CompanyID || p.From != change.From {
			continue
		}
		sameStart = append(sameStart, p)
	}
	if len(sameStart) == 0 {
		return PeriodPlan{Action: PeriodCreate, Period: Period{
			CompanyID:  owner.CompanyID,
			EmployeeID: owner.ID,
			InstanceID: owner.InstanceID,
			From:       change.From,
			To:         change.To,
			TitleID:    change.TitleID,
		}}, nil
	}
	// Two periods with one start would overlap; Flex HRM prevents it, but
	// pick the lowest id so the choice is stable if it happens.
	current := slices.MinFunc(sameStart, func(a, b Period) int { return cmp.Compare(a.ID, b.ID) })
	next := current
	next.To = change.To
	if change.TitleID != "" {
		next.TitleID = change.TitleID
	}
	if next == current {
		return PeriodPlan{Action: PeriodUnchanged, Period: current}, nil
	}
	return PeriodPlan{Action: PeriodUpdate, Period: next}, nil
}

// OverlappingPeriods lists the periods of candidate's company (other than
// candidate itself) that share a day with it, to explain an overlap refusal.
func OverlappingPeriods(existing []Period, candidate Period) []Period {
	var out []Period
	for _, p := range existing {
		if p.CompanyID != candidate.CompanyID || (candidate.ID != "" && p.ID == candidate.ID) {
			continue
		}
		if p.Overlaps(candidate) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, comparePeriods)
	return out
}
