package flexhrm

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// oneflowPrefix starts the name of every category flexflow may upload to.
const oneflowPrefix = "Oneflow"

// ChooseOneflowCategory picks the category flexflow uploads to among a
// company's categories: a name starting with "Oneflow" (case-insensitive,
// after trimming) and used in the employment register. Several: an exact-case
// "Oneflow" prefix first, then the shortest name, then the smallest id.
// None: an error wrapping ErrNoOneflowCategory that names the Oneflow
// categories kept out of the employment register, if any.
func ChooseOneflowCategory(categories []DocumentCategory) (DocumentCategory, error) {
	var candidates []DocumentCategory
	var outsideRegister []string
	for _, c := range categories {
		name := strings.TrimSpace(c.Name)
		if len(name) < len(oneflowPrefix) || !strings.EqualFold(name[:len(oneflowPrefix)], oneflowPrefix) {
			continue
		}
		if !c.UsedInEmploymentRegister {
			outsideRegister = append(outsideRegister, strconv.Quote(name))
			continue
		}
		candidates = append(candidates, c)
	}
	if len(candidates) == 0 {
		if len(outsideRegister) > 0 {
			return DocumentCategory{}, fmt.Errorf("%w used in the employment register (not in the register: %s)", ErrNoOneflowCategory, strings.Join(outsideRegister, ", "))
		}
		return DocumentCategory{}, fmt.Errorf("%w: no category name starts with %q", ErrNoOneflowCategory, oneflowPrefix)
	}
	slices.SortStableFunc(candidates, func(a, b DocumentCategory) int {
		an, bn := strings.TrimSpace(a.Name), strings.TrimSpace(b.Name)
		ae, be := strings.HasPrefix(an, oneflowPrefix), strings.HasPrefix(bn, oneflowPrefix)
		if ae != be {
			if ae {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(utf8.RuneCountInString(an), utf8.RuneCountInString(bn)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return candidates[0], nil
}

// CurrentPeriod picks the employment period flexflow reads the title and
// dates from: the one covering today (inclusive, nil toDate open-ended), else
// the one with the latest fromDate. Ties go to the latest fromDate, then the
// smallest id. false when there are no periods. today is read in its own
// location: pass a time in Europe/Stockholm.
func CurrentPeriod(periods []EmploymentPeriod, today time.Time) (EmploymentPeriod, bool) {
	if len(periods) == 0 {
		return EmploymentPeriod{}, false
	}
	day := DateOf(today)
	var covering []EmploymentPeriod
	for _, p := range periods {
		if p.Covers(day) {
			covering = append(covering, p)
		}
	}
	pool := covering
	if len(pool) == 0 {
		pool = periods
	}
	best := slices.MinFunc(pool, func(a, b EmploymentPeriod) int {
		if c := b.FromDate.Compare(a.FromDate); c != 0 {
			return c // later fromDate first
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return best, true
}
