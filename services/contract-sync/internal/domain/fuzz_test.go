package domain

import (
	"testing"
	"unicode/utf8"
)

// FuzzPlanFieldFill: whatever Flex HRM holds, the plan never writes a value
// Oneflow would refuse, never writes a field the contract lacks, and never
// panics.
func FuzzPlanFieldFill(f *testing.F) {
	f.Add("Anna", "2026-01-01T00:00:00", "", "Stockholm", true)
	f.Add("", "not a date", "2026-02-30", "\xff\xfe", false)
	f.Add(string(make([]byte, 1500)), "2026-01-01Z", "2026-12-31T00:00:00.000", "å", true)
	f.Fuzz(func(t *testing.T, first, start, end, city string, withCity bool) {
		fields := map[string]string{FieldFirstName: "", FieldEmploymentStart: "", FieldEmploymentEnd: "x"}
		if withCity {
			fields[FieldCity] = "old"
		}
		changes, _ := PlanFieldFill(fields, Employee{FirstName: first, EmploymentStart: start, EmploymentEnd: end, City: city})
		for _, c := range changes {
			if _, ok := fields[c.CustomID]; !ok {
				t.Fatalf("wrote %s, which the contract lacks", c.CustomID)
			}
			if utf8.RuneCountInString(c.Value) > MaxFieldValueLength {
				t.Fatalf("value for %s too long", c.CustomID)
			}
			if c.Value == fields[c.CustomID] {
				t.Fatalf("wrote an unchanged value for %s", c.CustomID)
			}
		}
	})
}

// FuzzPlanEmploymentPeriod: a period plan is either refused with a reason or
// has a real start date not after its end.
func FuzzPlanEmploymentPeriod(f *testing.F) {
	f.Add("2026-01-01", "2026-12-31", "Developer")
	f.Add("2026-13-01", "", "")
	f.Add("2026-01-01T00:00:00", "2025-01-01", " x ")
	f.Fuzz(func(t *testing.T, start, end, position string) {
		plan, ok, reason := PlanEmploymentPeriod(map[string]string{
			FieldEmploymentStart: start, FieldEmploymentEnd: end, FieldPosition: position,
		})
		if !ok {
			if reason == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		if _, valid := ParseDate(plan.FromDate); !valid {
			t.Fatalf("start %q is no date", plan.FromDate)
		}
		if plan.ToDate != "" && plan.ToDate < plan.FromDate {
			t.Fatalf("end %q before start %q", plan.ToDate, plan.FromDate)
		}
	})
}
