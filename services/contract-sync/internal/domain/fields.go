package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The custom_ids of the 15 data fields of the Flex HRM template type
// (specs/mapping.md). custom_id is Oneflow's stable key for a data field.
const (
	FieldEmployeeNumber     = "flexhrm_employee_number"
	FieldFirstName          = "flexhrm_first_name"
	FieldSurname            = "flexhrm_surname"
	FieldNationalID         = "flexhrm_national_id"
	FieldCOAddress          = "flexhrm_co_address"
	FieldStreetAddress      = "flexhrm_street_address"
	FieldPostalCode         = "flexhrm_postal_code"
	FieldCity               = "flexhrm_city"
	FieldCountry            = "flexhrm_country"
	FieldEmailWork          = "flexhrm_email_work"
	FieldMobilePhonePrivate = "flexhrm_mobile_phone_private"
	FieldImmediateManager   = "flexhrm_immediate_manager"
	FieldPosition           = "flexhrm_position"
	FieldEmploymentStart    = "flexhrm_employment_start"
	FieldEmploymentEnd      = "flexhrm_employment_end"
)

// MaxFieldValueLength is Oneflow's limit for a text data field, in characters.
const MaxFieldValueLength = 1024

// Employee is the view of a Flex HRM employee that contract-sync maps onto a
// contract; it mirrors employee-directory's Employee without depending on
// the wire type, so the rules stay testable on plain values.
type Employee struct {
	EmployeeNumber       string
	FirstName            string
	Surname              string
	NationalID           string
	COAddress            string
	StreetAddress        string
	PostalCode           string
	City                 string
	Country              string
	EmailWork            string
	MobilePhonePrivate   string
	ImmediateManagerName string
	// ImmediateManagerEmail is the manager's work email, empty when the
	// employee has no manager or the manager has none.
	ImmediateManagerEmail string
	Position              string
	EmploymentStart       string
	EmploymentEnd         string
	FullName              string
	FlexEmployeeID        string
	FlexCompanyID         string
	// HasManager tells a missing manager from a manager without email.
	HasManager bool
}

// MappedField describes one row of the mapping table.
type MappedField struct {
	// CustomID is the Oneflow data field key.
	CustomID string
	// DirectoryField is the field's name in employee-directory's Employee
	// message, used in update masks; empty for fields never written back
	// through UpdateEmployee.
	DirectoryField string
	// Date is true for YYYY-MM-DD values.
	Date  bool
	value func(Employee) string
}

// MappedFields lists the 15 mapped fields in the mapping table's order.
func MappedFields() []MappedField {
	return []MappedField{
		{CustomID: FieldEmployeeNumber, value: func(e Employee) string { return e.EmployeeNumber }},
		{CustomID: FieldFirstName, DirectoryField: "first_name", value: func(e Employee) string { return e.FirstName }},
		{CustomID: FieldSurname, DirectoryField: "surname", value: func(e Employee) string { return e.Surname }},
		{CustomID: FieldNationalID, DirectoryField: "national_id", value: func(e Employee) string { return e.NationalID }},
		{CustomID: FieldCOAddress, DirectoryField: "co_address", value: func(e Employee) string { return e.COAddress }},
		{CustomID: FieldStreetAddress, DirectoryField: "street_address", value: func(e Employee) string { return e.StreetAddress }},
		{CustomID: FieldPostalCode, DirectoryField: "postal_code", value: func(e Employee) string { return e.PostalCode }},
		{CustomID: FieldCity, DirectoryField: "city", value: func(e Employee) string { return e.City }},
		{CustomID: FieldCountry, DirectoryField: "country", value: func(e Employee) string { return e.Country }},
		{CustomID: FieldEmailWork, DirectoryField: "email_work", value: func(e Employee) string { return e.EmailWork }},
		{CustomID: FieldMobilePhonePrivate, DirectoryField: "mobile_phone_private", value: func(e Employee) string { return e.MobilePhonePrivate }},
		{CustomID: FieldImmediateManager, value: func(e Employee) string { return e.ImmediateManagerName }},
		{CustomID: FieldPosition, value: func(e Employee) string { return e.Position }},
		{CustomID: FieldEmploymentStart, Date: true, value: func(e Employee) string { return e.EmploymentStart }},
		{CustomID: FieldEmploymentEnd, Date: true, value: func(e Employee) string { return e.EmploymentEnd }},
	}
}

// FieldChange is one data field value to write into a contract.
type FieldChange struct {
	CustomID string
	Value    string
}

// FieldWarning is a field that could not be filled, with a reason free of
// personal data.
type FieldWarning struct {
	CustomID string
	Reason   string
}

// PlanFieldFill compares the contract's data fields (custom_id → value, only
// the fields the template has) with the employee and returns the changes for
// one batch update: only fields present in the contract whose value differs.
// A value over Oneflow's 1024 characters is a warning for that field alone.
func PlanFieldFill(contractFields map[string]string, e Employee) ([]FieldChange, []FieldWarning) {
	var changes []FieldChange
	var warnings []FieldWarning
	for _, f := range MappedFields() {
		current, present := contractFields[f.CustomID]
		if !present {
			continue
		}
		want := f.value(e)
		if f.Date {
			want = NormalizeDate(want)
		}
		if utf8.RuneCountInString(want) > MaxFieldValueLength {
			warnings = append(warnings, FieldWarning{
				CustomID: f.CustomID,
				Reason:   fmt.Sprintf("value for %s is longer than %d characters; field left as it is", f.CustomID, MaxFieldValueLength),
			})
			continue
		}
		if current == want {
			continue
		}
		changes = append(changes, FieldChange{CustomID: f.CustomID, Value: want})
	}
	return changes, warnings
}

// PlanEmployeeWriteBack compares a signed contract's writable fields with
// the employee as Flex HRM holds it and returns employee-directory's field
// names that differ plus the values to write. Fields missing from the
// contract are left alone; so is the employee number (it is the key) and the
// manager (Flex HRM derives it).
func PlanEmployeeWriteBack(contractFields map[string]string, current Employee) (mask []string, values Employee) {
	for _, f := range MappedFields() {
		if f.DirectoryField == "" {
			continue
		}
		v, present := contractFields[f.CustomID]
		if !present {
			continue
		}
		if strings.TrimSpace(v) == strings.TrimSpace(f.value(current)) {
			continue
		}
		mask = append(mask, f.DirectoryField)
		setDirectoryField(&values, f.DirectoryField, v)
	}
	return mask, values
}

func setDirectoryField(e *Employee, name, v string) {
	switch name {
	case "first_name":
		e.FirstName = v
	case "surname":
		e.Surname = v
	case "national_id":
		e.NationalID = v
	case "co_address":
		e.COAddress = v
	case "street_address":
		e.StreetAddress = v
	case "postal_code":
		e.PostalCode = v
	case "city":
		e.City = v
	case "country":
		e.Country = v
	case "email_work":
		e.EmailWork = v
	case "mobile_phone_private":
		e.MobilePhonePrivate = v
	}
}

// EmploymentPeriodPlan is the period a signed contract implies.
type EmploymentPeriodPlan struct {
	FromDate string
	ToDate   string
	Position string
}

// PlanEmploymentPeriod reads start, end and position from a signed
// contract. ok is false with a reason when the contract has no valid start
// date, in which case no period is written.
func PlanEmploymentPeriod(contractFields map[string]string) (plan EmploymentPeriodPlan, ok bool, reason string) {
	start, present := contractFields[FieldEmploymentStart]
	if !present || strings.TrimSpace(start) == "" {
		return plan, false, "contract has no start of employment; no employment period written"
	}
	from, valid := ParseDate(start)
	if !valid {
		return plan, false, "start of employment is not a date (YYYY-MM-DD); no employment period written"
	}
	plan.FromDate = from
	if end := strings.TrimSpace(contractFields[FieldEmploymentEnd]); end != "" {
		to, valid := ParseDate(end)
		if !valid {
			return plan, false, "end of employment is not a date (YYYY-MM-DD); no employment period written"
		}
		if to < from {
			return plan, false, "end of employment is before its start; no employment period written"
		}
		plan.ToDate = to
	}
	plan.Position = strings.TrimSpace(contractFields[FieldPosition])
	return plan, true, ""
}

// NormalizeDate turns the date forms Flex HRM uses (YYYY-MM-DD, with a time,
// a Z or fractions) into Oneflow's YYYY-MM-DD; anything else is returned
// as it is.
func NormalizeDate(s string) string {
	if d, ok := ParseDate(s); ok {
		return d
	}
	return s
}

// ParseDate accepts YYYY-MM-DD optionally followed by a time part and
// returns the YYYY-MM-DD form of a real calendar date.
func ParseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return "", false
	}
	d := s[:10]
	if len(s) > 10 && s[10] != 'T' && s[10] != ' ' {
		return "", false
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return "", false
	}
	return d, true
}
