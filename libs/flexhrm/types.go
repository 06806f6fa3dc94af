package flexhrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Employee is Flex HRM's employee object. Strings the API sends as null read
// as "". Writable through UpdateEmployee: names, national ID, address rows,
// postal code, city, country, emails and phone1..4; the rest is read-only and
// derived inside Flex HRM (the manager, for one).
//
// An Employee remembers every property it was read with, so a GET, change,
// PUT round trip re-sends what this model does not know instead of wiping it.
type Employee struct {
	ID                           string       `json:"id"`
	InstanceID                   string       `json:"instanceId"`
	CompanyID                    string       `json:"companyId"`
	FirstName                    string       `json:"firstName"`
	LastName                     string       `json:"lastName"`
	Name                         string       `json:"name"`
	NationalIdentificationNumber string       `json:"nationalIdentificationNumber"`
	AddressRow1                  string       `json:"addressRow1"`
	AddressRow2                  string       `json:"addressRow2"`
	PostalCode                   string       `json:"postalCode"`
	City                         string       `json:"city"`
	Country                      string       `json:"country"`
	EmailWork                    string       `json:"emailWork"`
	EmailPrivate                 string       `json:"emailPrivate"`
	Phone1                       string       `json:"phone1"`
	Phone2                       string       `json:"phone2"`
	Phone3                       string       `json:"phone3"`
	Phone4                       string       `json:"phone4"`
	ImmediateManagerEmployeeID   string       `json:"immediateManagerEmployeeId"`
	Employment                   []Employment `json:"employment"`

	read map[string]json.RawMessage
}

// Employment is one entry of Employee.employment; the employment number is
// unique within a company, not across companies.
type Employment struct {
	EmploymentNumber string `json:"employmentNumber"`
}

// HasEmploymentNumber reports whether one of the employee's employments has
// that number.
func (e Employee) HasEmploymentNumber(n string) bool {
	for _, emp := range e.Employment {
		if emp.EmploymentNumber == n {
			return true
		}
	}
	return false
}

// EmploymentNumber is the first employment number, "" if none.
func (e Employee) EmploymentNumber() string {
	if len(e.Employment) == 0 {
		return ""
	}
	return e.Employment[0].EmploymentNumber
}

// String names the employee by ids only: an Employee is personal data.
func (e Employee) String() string {
	return fmt.Sprintf("flexhrm.Employee{id=%s companyId=%s}", e.ID, e.CompanyID)
}

// GoString keeps %#v from printing personal data.
func (e Employee) GoString() string { return e.String() }

// LogValue logs ids only.
func (e Employee) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", e.ID), slog.String("companyId", e.CompanyID))
}

type employeeFields Employee

// UnmarshalJSON reads case-insensitively and remembers every property.
func (e *Employee) UnmarshalJSON(b []byte) error {
	var f employeeFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	read, err := readProperties(b)
	if err != nil {
		return err
	}
	f.read = read
	*e = Employee(f)
	return nil
}

// MarshalJSON writes camelCase, re-sending unknown properties as read.
func (e Employee) MarshalJSON() ([]byte, error) {
	known, err := json.Marshal(employeeFields(e))
	if err != nil {
		return nil, err
	}
	return mergeProperties(known, e.read, nil)
}

// EmploymentPeriod is one employment period. ToDate nil means open-ended;
// both ends are inclusive.
type EmploymentPeriod struct {
	ID               string `json:"id"`
	CompanyID        string `json:"companyId"`
	EmployeeID       string `json:"employeeId"`
	InstanceID       string `json:"instanceId"`
	FromDate         Date   `json:"fromDate"`
	ToDate           *Date  `json:"toDate"`
	TitleID          string `json:"titleId"`
	EmploymentTypeID string `json:"employmentTypeId"`

	read map[string]json.RawMessage
}

// Covers reports whether the period includes day d (inclusive ends, nil
// ToDate open-ended).
func (p EmploymentPeriod) Covers(d Date) bool {
	if d.Before(p.FromDate) {
		return false
	}
	return p.ToDate == nil || p.ToDate.IsZero() || !d.After(*p.ToDate)
}

type periodFields EmploymentPeriod

// UnmarshalJSON reads case-insensitively and remembers every property.
func (p *EmploymentPeriod) UnmarshalJSON(b []byte) error {
	var f periodFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	read, err := readProperties(b)
	if err != nil {
		return err
	}
	f.read = read
	if f.ToDate != nil && f.ToDate.IsZero() {
		f.ToDate = nil
	}
	*p = EmploymentPeriod(f)
	return nil
}

// MarshalJSON writes camelCase, re-sending unknown properties as read; an
// empty id is left out (a create).
func (p EmploymentPeriod) MarshalJSON() ([]byte, error) {
	known, err := json.Marshal(periodFields(p))
	if err != nil {
		return nil, err
	}
	var omit []string
	if p.ID == "" {
		omit = []string{"id"}
	}
	return mergeProperties(known, p.read, omit)
}

// EmploymentTitle is a title (position) of a company.
type EmploymentTitle struct {
	ID        string `json:"id"`
	CompanyID string `json:"companyId"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Active    bool   `json:"active"`
}

// Company is a company the API user can see.
type Company struct {
	ID                 string `json:"id"`
	CompanyNumber      string `json:"companyNumber"`
	Name               string `json:"name"`
	OrganizationNumber string `json:"organizationNumber"`
}

// Ref names the company for messages.
func (c Company) Ref() CompanyRef {
	return CompanyRef{ID: c.ID, CompanyNumber: c.CompanyNumber, Name: c.Name}
}

// DocumentCategory is a company's document category; uploads from flexflow
// go to the one ChooseOneflowCategory picks.
type DocumentCategory struct {
	ID                       string `json:"id"`
	CompanyID                string `json:"companyId"`
	Name                     string `json:"name"`
	UsedInEmploymentRegister bool   `json:"usedInEmploymentRegister"`
}

// Document is an uploaded employee document.
type Document struct {
	ID                 string    `json:"id"`
	EmployeeID         string    `json:"employeeId"`
	CompanyID          string    `json:"companyId"`
	DocumentCategoryID string    `json:"documentCategoryId"`
	Title              string    `json:"title"`
	FileName           string    `json:"fileName"`
	ContentType        string    `json:"contentType"`
	ContentLength      int64     `json:"contentLength"`
	Created            time.Time `json:"created"`
}

type documentFields Document

// UnmarshalJSON reads "created" tolerantly (see gaps.go).
func (d *Document) UnmarshalJSON(b []byte) error {
	var f struct {
		documentFields
		Created json.RawMessage `json:"created"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = Document(f.documentFields)
	d.Created = time.Time{}
	created := bytes.TrimSpace(f.Created)
	if len(created) == 0 || bytes.Equal(created, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(created, &s); err != nil {
		return fmt.Errorf("%w: created is not a string", ErrInvalidDate)
	}
	t, err := parseTimestamp(s)
	if err != nil {
		return err
	}
	d.Created = t
	return nil
}

func parseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := ParseDate(s); err == nil {
		return d.Time(), nil
	}
	return time.Time{}, fmt.Errorf("%w: created is not a timestamp", ErrInvalidDate)
}

// readProperties keeps every property of an object as read.
func readProperties(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// mergeProperties adds to the known properties (as this package marshals
// them) every read property it does not know, and keeps the read
// representation (null or "") of a string that is still empty. omit names
// known properties to leave out.
func mergeProperties(known []byte, read map[string]json.RawMessage, omit []string) ([]byte, error) {
	var out map[string]json.RawMessage
	if err := json.Unmarshal(known, &out); err != nil {
		return nil, err
	}
	for _, k := range omit {
		delete(out, k)
	}
	for k, v := range out {
		if !bytes.Equal(v, []byte(`""`)) {
			continue
		}
		if rv, ok := lookupFold(read, k); ok && bytes.Equal(bytes.TrimSpace(rv), []byte(`""`)) {
			continue // read as "", still "": keep ""
		}
		out[k] = json.RawMessage("null")
	}
	for k, v := range read {
		if hasKeyFold(out, k) || containsFold(omit, k) {
			continue
		}
		out[k] = v
	}
	return json.Marshal(out)
}

func hasKeyFold(m map[string]json.RawMessage, key string) bool {
	_, ok := lookupFold(m, key)
	return ok
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
