package sandbox

import (
	"net/http"
	"strings"
)

// store is the sandbox's data; Server.mu guards it.
type store struct {
	instanceID string
	companies  []SeedCompany
	employees  []*Employee
	titles     []EmploymentTitle
	periods    []*EmploymentPeriod
	categories []DocumentCategory
	documents  []StoredDocument
	contents   map[string][]byte
}

func newStore(seed Seed) *store {
	seed, err := seed.clone()
	if err != nil {
		seed = Seed{}
	}
	st := &store{
		instanceID: seed.InstanceID,
		companies:  seed.Companies,
		titles:     seed.EmploymentTitles,
		categories: seed.DocumentCategories,
		contents:   map[string][]byte{},
	}
	for i := range seed.Employees {
		e := seed.Employees[i]
		e.InstanceID = seed.InstanceID
		e.Name = fullName(e)
		st.employees = append(st.employees, &e)
	}
	for i := range seed.EmploymentPeriods {
		p := seed.EmploymentPeriods[i]
		p.InstanceID = seed.InstanceID
		st.periods = append(st.periods, &p)
	}
	return st
}

func fullName(e Employee) string {
	return strings.TrimSpace(str(e.FirstName) + " " + str(e.LastName))
}

// company returns the company and 0, or 404 / 403.
func (st *store) company(id string) (SeedCompany, int) {
	for _, c := range st.companies {
		if strings.EqualFold(c.ID, id) {
			if c.Inaccessible {
				return c, http.StatusForbidden
			}
			return c, 0
		}
	}
	return SeedCompany{}, http.StatusNotFound
}

func (st *store) accessible(companyID string) bool {
	_, status := st.company(companyID)
	return status == 0
}

// employee returns the employee and 0, or 404 / 403 (its company is not
// accessible).
func (st *store) employee(id string) (*Employee, int) {
	for _, e := range st.employees {
		if strings.EqualFold(e.ID, id) {
			if !st.accessible(e.CompanyID) {
				return nil, http.StatusForbidden
			}
			return e, 0
		}
	}
	return nil, http.StatusNotFound
}

func (st *store) title(id string) (EmploymentTitle, int) {
	for _, t := range st.titles {
		if strings.EqualFold(t.ID, id) {
			if !st.accessible(t.CompanyID) {
				return EmploymentTitle{}, http.StatusForbidden
			}
			return t, 0
		}
	}
	return EmploymentTitle{}, http.StatusNotFound
}

func (st *store) period(id string) (*EmploymentPeriod, int) {
	for _, p := range st.periods {
		if strings.EqualFold(p.ID, id) {
			if !st.accessible(p.CompanyID) {
				return nil, http.StatusForbidden
			}
			return p, 0
		}
	}
	return nil, http.StatusNotFound
}

func (st *store) category(id string) (DocumentCategory, bool) {
	for _, c := range st.categories {
		if strings.EqualFold(c.ID, id) {
			return c, true
		}
	}
	return DocumentCategory{}, false
}

// overlapping reports whether p would overlap another period of its
// employee in its company (ignoring the period with p's id).
func (st *store) overlapping(p EmploymentPeriod) bool {
	for _, q := range st.periods {
		if p.ID != "" && strings.EqualFold(q.ID, p.ID) {
			continue
		}
		if overlaps(p, *q) {
			return true
		}
	}
	return false
}

// snapshot copies the state for State().
func (st *store) snapshot() State {
	out := State{
		Companies:          append([]SeedCompany(nil), st.companies...),
		EmploymentTitles:   append([]EmploymentTitle(nil), st.titles...),
		DocumentCategories: append([]DocumentCategory(nil), st.categories...),
		Documents:          append([]StoredDocument(nil), st.documents...),
	}
	for _, e := range st.employees {
		out.Employees = append(out.Employees, copyEmployee(*e))
	}
	for _, p := range st.periods {
		out.EmploymentPeriods = append(out.EmploymentPeriods, copyPeriod(*p))
	}
	return out
}

func copyEmployee(e Employee) Employee {
	cp := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	e.FirstName, e.LastName = cp(e.FirstName), cp(e.LastName)
	e.NationalIdentificationNumber = cp(e.NationalIdentificationNumber)
	e.AddressRow1, e.AddressRow2 = cp(e.AddressRow1), cp(e.AddressRow2)
	e.PostalCode, e.City, e.Country = cp(e.PostalCode), cp(e.City), cp(e.Country)
	e.EmailWork, e.EmailPrivate = cp(e.EmailWork), cp(e.EmailPrivate)
	e.Phone1, e.Phone2, e.Phone3, e.Phone4 = cp(e.Phone1), cp(e.Phone2), cp(e.Phone3), cp(e.Phone4)
	e.ImmediateManagerEmployeeID = cp(e.ImmediateManagerEmployeeID)
	e.Employment = append([]Employment(nil), e.Employment...)
	return e
}

func copyPeriod(p EmploymentPeriod) EmploymentPeriod {
	if p.ToDate != nil {
		d := *p.ToDate
		p.ToDate = &d
	}
	if p.TitleID != nil {
		v := *p.TitleID
		p.TitleID = &v
	}
	if p.EmploymentTypeID != nil {
		v := *p.EmploymentTypeID
		p.EmploymentTypeID = &v
	}
	return p
}
