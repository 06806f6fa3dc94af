package sandbox_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

func TestDefaultSeedIsTheCommittedFile(t *testing.T) {
	fromFile, err := sandbox.LoadSeed("defaultseed.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, sandbox.DefaultSeed()) {
		t.Fatal("DefaultSeed differs from defaultseed.json")
	}
	a, b := sandbox.DefaultSeed(), sandbox.DefaultSeed()
	a.Companies[0].Name = "changed"
	if b.Companies[0].Name == "changed" {
		t.Fatal("DefaultSeed shares data between calls")
	}
}

// TestDefaultSeedHasWhatTheSpecLists checks the spec's Sandbox section and
// the fixtures other packages' tests rely on.
func TestDefaultSeedHasWhatTheSpecLists(t *testing.T) {
	seed := sandbox.DefaultSeed()
	employees := map[string]sandbox.Employee{}
	byNumber := map[string][]sandbox.Employee{}
	for _, e := range seed.Employees {
		employees[e.ID] = e
		for _, emp := range e.Employment {
			byNumber[emp.EmploymentNumber] = append(byNumber[emp.EmploymentNumber], e)
		}
		if n := deref(e.NationalIdentificationNumber); n != "" {
			if err := flexhrm.ValidatePersonnummer(n); err != nil {
				t.Errorf("%s: %v", e.ID, err)
			}
		}
	}
	one := func(number string) sandbox.Employee {
		t.Helper()
		if len(byNumber[number]) != 1 {
			t.Fatalf("employment number %s: %d employees, want 1", number, len(byNumber[number]))
		}
		return byNumber[number][0]
	}
	accessible := 0
	for _, c := range seed.Companies {
		if !c.Inaccessible {
			accessible++
		}
	}
	if accessible < 2 {
		t.Errorf("%d accessible companies, want at least two", accessible)
	}
	anna := one("1001")
	if deref(anna.FirstName) != "Anna" || deref(anna.LastName) != "Lindström" || anna.CompanyID != sandbox.CompanyA {
		t.Errorf("1001 is not Anna Lindström of company A")
	}
	for name, v := range map[string]*string{"addressRow1": anna.AddressRow1, "addressRow2": anna.AddressRow2, "postalCode": anna.PostalCode, "city": anna.City,
		"country": anna.Country, "emailWork": anna.EmailWork, "phone4": anna.Phone4, "nationalIdentificationNumber": anna.NationalIdentificationNumber} {
		if deref(v) == "" {
			t.Errorf("Anna lacks %s (the 15 mapped fields need full data)", name)
		}
	}
	maria := employees[deref(anna.ImmediateManagerEmployeeID)]
	if deref(maria.EmailWork) != sandbox.ManagerEmail {
		t.Errorf("Anna's manager's work email = %q, want %q", deref(maria.EmailWork), sandbox.ManagerEmail)
	}
	if deref(one("1002").ImmediateManagerEmployeeID) != "" {
		t.Errorf("1002 has a manager")
	}
	if m := deref(one("1003").ImmediateManagerEmployeeID); m == "" || deref(employees[m].EmailWork) != "" {
		t.Errorf("1003's manager is missing or has a work email")
	}
	twice := byNumber["2001"]
	if len(twice) != 2 || twice[0].CompanyID == twice[1].CompanyID {
		t.Errorf("2001 is not in two companies")
	}
	if one("3001").CompanyID != sandbox.CompanyC {
		t.Errorf("3001 is not in company C")
	}
	var activeTitle, inactiveTitle bool
	for _, ti := range seed.EmploymentTitles {
		activeTitle = activeTitle || ti.Active
		inactiveTitle = inactiveTitle || !ti.Active
	}
	if !activeTitle || !inactiveTitle {
		t.Errorf("titles: active %v inactive %v, want both", activeTitle, inactiveTitle)
	}
	var annaPast, annaCurrent bool
	for _, p := range seed.EmploymentPeriods {
		annaPast = annaPast || p.ID == sandbox.PeriodAnnaPast && p.ToDate != nil
		annaCurrent = annaCurrent || p.ID == sandbox.PeriodAnnaCurrent && p.ToDate == nil
	}
	if !annaPast || !annaCurrent {
		t.Errorf("Anna lacks a past or a current period")
	}
	categories := map[string][]flexhrm.DocumentCategory{}
	for _, c := range seed.DocumentCategories {
		categories[c.CompanyID] = append(categories[c.CompanyID], flexhrm.DocumentCategory{ID: c.ID, Name: c.Name, UsedInEmploymentRegister: c.UsedInEmploymentRegister})
	}
	if cat, err := flexhrm.ChooseOneflowCategory(categories[sandbox.CompanyA]); err != nil || cat.Name != "Oneflow Documents" {
		t.Errorf("company A's Oneflow category = %v, %v", cat.Name, err)
	}
	names := map[string]bool{}
	for _, c := range categories[sandbox.CompanyA] {
		names[c.Name+"/"+map[bool]string{true: "in", false: "out"}[c.UsedInEmploymentRegister]] = true
	}
	for _, want := range []string{"Oneflow Documents/in", "Oneflow Arkiv/out", "Anställningsavtal/in"} {
		if !names[want] {
			t.Errorf("company A lacks category %s", want)
		}
	}
	if _, err := flexhrm.ChooseOneflowCategory(categories[sandbox.CompanyC]); err == nil {
		t.Errorf("company C has a Oneflow category")
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestInvalidSeedsAreRefusedSayingWhy(t *testing.T) {
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(mustRead(t, "defaultseed.json"), &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	employee := func(m map[string]any, i int) map[string]any { return m["employees"].([]any)[i].(map[string]any) }
	period := func(m map[string]any, i int) map[string]any {
		return m["employmentPeriods"].([]any)[i].(map[string]any)
	}
	tests := []struct {
		name string
		seed []byte
		says string
	}{
		{"unknown_property", mutate(func(m map[string]any) { m["employes"] = []any{} }), `unknown field "employes"`},
		{"invalid_national_id", mutate(func(m map[string]any) { employee(m, 1)["nationalIdentificationNumber"] = "19900312-9832" }), "check digit"},
		{"duplicate_employment_number_in_a_company", mutate(func(m map[string]any) {
			employee(m, 2)["employment"] = []any{map[string]any{"employmentNumber": "1001"}}
		}), "used twice in the company"},
		{"unknown_manager", mutate(func(m map[string]any) {
			employee(m, 1)["immediateManagerEmployeeId"] = "e0000000-0000-4000-8000-00000000ffff"
		}), "unknown manager"},
		{"overlapping_periods", mutate(func(m map[string]any) { period(m, 1)["toDate"] = "2022-01-01T00:00:00" }), "overlap"},
		{"period_ending_before_it_starts", mutate(func(m map[string]any) { period(m, 1)["toDate"] = "2018-01-01T00:00:00" }), "toDate before fromDate"},
		{"id_that_is_not_a_uuid", mutate(func(m map[string]any) { employee(m, 0)["id"] = "maria" }), "is not a UUID"},
		{"credentials_with_a_space", mutate(func(m map[string]any) {
			m["credentials"].(map[string]any)["username"] = "flex flow"
		}), "credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			if err := os.WriteFile(path, tc.seed, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := sandbox.LoadSeed(path)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("LoadSeed = %v, want an error saying %q", err, tc.says)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServerWithAnInvalidSeedSaysSoInsteadOfPanicking(t *testing.T) {
	seed := sandbox.DefaultSeed()
	seed.Employees[0].CompanyID = "c0000000-0000-4000-8000-0000000000ff"
	srv := sandbox.New(seed)
	if srv.Err() == nil {
		t.Fatal("Err() = nil")
	}
	if _, err := srv.Start("127.0.0.1:0"); err == nil {
		t.Fatal("Start accepted an invalid seed")
	}
}
