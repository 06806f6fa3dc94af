package flexhrm

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
)

// Paths is the table of every Flex HRM path the client calls, relative to the
// API root. Flex HRM's reference is not public: when the real paths differ
// from the model, swap them here and nowhere else.
//
// A template is a path with {placeholders} and an optional query. Path
// placeholders are required and path-escaped; a query parameter whose value is
// a placeholder is left out when that value is empty. The client adds paging
// through {pageIndex} and {pageSize}.
type Paths struct {
	// P1 GET: employees with an employment number, across the user's companies.
	FindEmployees string
	// P1 GET (gap): a page of employees, optionally of one company.
	ListEmployees string
	// P2 GET: one employee.
	GetEmployee string
	// P3 PUT: update an employee (the whole object).
	UpdateEmployee string
	// P4 GET: an employee's employment periods.
	ListEmploymentPeriods string
	// P5 POST: create a period (201).
	CreateEmploymentPeriod string
	// P6 PUT: update a period (200).
	UpdateEmploymentPeriod string
	// P7 GET: a company's titles.
	ListEmploymentTitles string
	// P7 GET: one title.
	GetEmploymentTitle string
	// P8 GET: the companies the user can see.
	ListCompanies string
	// P8 GET: one company.
	GetCompany string
	// P9 GET: a company's document categories.
	ListDocumentCategories string
	// P10 POST multipart: upload an employee document (201).
	UploadEmployeeDocument string
	// P11 GET: uploaded documents.
	ListEmploymentDocuments string
}

// DefaultPaths is the model's table (shared/specs/flexhrm-api.md, "Paths").
func DefaultPaths() Paths {
	const paging = "pageIndex={pageIndex}&pageSize={pageSize}"
	return Paths{
		FindEmployees:           "/employees?employmentnumber={employmentNumber}&companyId={companyId}&" + paging,
		ListEmployees:           "/employees?companyId={companyId}&" + paging,
		GetEmployee:             "/employees/{id}",
		UpdateEmployee:          "/employees/{id}",
		ListEmploymentPeriods:   "/employmentperiods?employeeId={employeeId}&" + paging,
		CreateEmploymentPeriod:  "/employmentperiods",
		UpdateEmploymentPeriod:  "/employmentperiods/{id}",
		ListEmploymentTitles:    "/employmenttitles?companyId={companyId}&active={active}&" + paging,
		GetEmploymentTitle:      "/employmenttitles/{id}",
		ListCompanies:           "/companies?" + paging,
		GetCompany:              "/companies/{id}",
		ListDocumentCategories:  "/documentcategories?companyId={companyId}&" + paging,
		UploadEmployeeDocument:  "/employeedocuments?employeeId={employeeId}&documentCategoryId={documentCategoryId}&title={title}",
		ListEmploymentDocuments: "/employmentdocuments?companyId={companyId}&employeeId={employeeId}&documentCategoryId={documentCategoryId}&" + paging,
	}
}

// placeholders each template may use; Validate refuses others so a typo in a
// swapped table fails at New, not at the first call.
var pathPlaceholders = map[string][]string{
	"FindEmployees":           {"employmentNumber", "companyId", "pageIndex", "pageSize"},
	"ListEmployees":           {"companyId", "pageIndex", "pageSize"},
	"GetEmployee":             {"id"},
	"UpdateEmployee":          {"id"},
	"ListEmploymentPeriods":   {"employeeId", "pageIndex", "pageSize"},
	"CreateEmploymentPeriod":  {},
	"UpdateEmploymentPeriod":  {"id"},
	"ListEmploymentTitles":    {"companyId", "active", "pageIndex", "pageSize"},
	"GetEmploymentTitle":      {"id"},
	"ListCompanies":           {"pageIndex", "pageSize"},
	"GetCompany":              {"id"},
	"ListDocumentCategories":  {"companyId", "pageIndex", "pageSize"},
	"UploadEmployeeDocument":  {"employeeId", "documentCategoryId", "title"},
	"ListEmploymentDocuments": {"companyId", "employeeId", "documentCategoryId", "pageIndex", "pageSize"},
}

// Validate checks every template: present, starting with "/", and using only
// the placeholders its operation fills.
func (p Paths) Validate() error {
	v := reflect.ValueOf(p)
	var errs []error
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		tmpl := v.Field(i).String()
		if tmpl == "" {
			errs = append(errs, fmt.Errorf("flexhrm: paths: %s is empty", name))
			continue
		}
		if !strings.HasPrefix(tmpl, "/") {
			errs = append(errs, fmt.Errorf("flexhrm: paths: %s must start with /", name))
			continue
		}
		for _, ph := range placeholdersIn(tmpl) {
			if !contains(pathPlaceholders[name], ph) {
				errs = append(errs, fmt.Errorf("flexhrm: paths: %s uses unknown placeholder {%s}", name, ph))
			}
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func placeholdersIn(tmpl string) []string {
	var out []string
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return append(out, tmpl[i+1:])
		}
		out = append(out, tmpl[i+1:i+j])
		tmpl = tmpl[i+j+1:]
	}
}

// vars fills a template's placeholders.
type vars map[string]string

// expand fills a template. A path placeholder with no value is an error (a
// request would silently hit another resource); a query parameter with an
// empty placeholder value is left out.
func expand(tmpl string, v vars) (string, error) {
	pathPart, queryPart, _ := strings.Cut(tmpl, "?")
	var b strings.Builder
	rest := pathPart
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", errors.New("path template has an unclosed placeholder")
		}
		name := rest[i+1 : i+j]
		val := v[name]
		if val == "" {
			return "", fmt.Errorf("%s is empty", name)
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(val))
		rest = rest[i+j+1:]
	}
	if queryPart == "" {
		return b.String(), nil
	}
	sep := "?"
	for _, pair := range strings.Split(queryPart, "&") {
		if pair == "" {
			continue
		}
		key, val, _ := strings.Cut(pair, "=")
		if strings.HasPrefix(val, "{") && strings.HasSuffix(val, "}") {
			val = v[val[1:len(val)-1]]
			if val == "" {
				continue
			}
			val = url.QueryEscape(val)
		}
		b.WriteString(sep)
		b.WriteString(key)
		b.WriteString("=")
		b.WriteString(val)
		sep = "&"
	}
	return b.String(), nil
}
