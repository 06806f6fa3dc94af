package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Field names a writable Employee field by its protobuf name, the name
// callers put in an update mask.
type Field string

// The writable fields, in the order of the Employee message.
const (
	FieldFirstName          Field = "first_name"
	FieldSurname            Field = "surname"
	FieldNationalID         Field = "national_id"
	FieldCOAddress          Field = "co_address"
	FieldStreetAddress      Field = "street_address"
	FieldPostalCode         Field = "postal_code"
	FieldCity               Field = "city"
	FieldCountry            Field = "country"
	FieldEmailWork          Field = "email_work"
	FieldMobilePhonePrivate Field = "mobile_phone_private"
)

// WritableFields lists every field UpdateEmployee may write, in message order.
func WritableFields() []Field {
	return []Field{
		FieldFirstName, FieldSurname, FieldNationalID, FieldCOAddress, FieldStreetAddress,
		FieldPostalCode, FieldCity, FieldCountry, FieldEmailWork, FieldMobilePhonePrivate,
	}
}

// readOnlyReason explains, for a read-only Employee field, why it cannot be
// in an update mask.
func readOnlyReason(path string) (string, bool) {
	switch path {
	case "employee_number":
		return "is the key and cannot be changed", true
	case "immediate_manager_name", "immediate_manager_email":
		return "is derived by Flex HRM and cannot be written", true
	case "position", "employment_start", "employment_end":
		return "belongs to the employment period: use UpsertEmploymentPeriod", true
	case "full_name":
		return "is derived from first_name and surname", true
	}
	if path == "flex" || strings.HasPrefix(path, "flex.") {
		return "holds Flex HRM identifiers and cannot be written", true
	}
	return "", false
}

// ParseUpdateMask turns update-mask paths into writable fields, in message
// order without duplicates. It accepts the protobuf names and their JSON
// (lowerCamel) spelling, since REST callers use the latter. An empty mask, an
// unknown path or a read-only one is an InvalidFieldError naming update_mask.
func ParseUpdateMask(paths []string) ([]Field, error) {
	if len(paths) == 0 {
		return nil, &InvalidFieldError{Field: "update_mask", Reason: "name at least one field to write"}
	}
	want := make(map[Field]bool, len(paths))
	for _, raw := range paths {
		path := snakeCase(strings.TrimSpace(raw))
		if f := Field(path); slices.Contains(WritableFields(), f) {
			want[f] = true
			continue
		}
		if reason, ok := readOnlyReason(path); ok {
			return nil, &InvalidFieldError{Field: "update_mask", Reason: fmt.Sprintf("%q %s", path, reason)}
		}
		return nil, &InvalidFieldError{Field: "update_mask", Reason: fmt.Sprintf("%q is not a field of Employee", clip(raw, 64))}
	}
	var out []Field
	for _, f := range WritableFields() {
		if want[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// snakeCase turns "emailWork" into "email_work"; snake_case passes unchanged.
func snakeCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clip bounds a caller's string echoed in an error.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Value is the field's value in an Employee.
func (f Field) Value(e Employee) string {
	switch f {
	case FieldFirstName:
		return e.FirstName
	case FieldSurname:
		return e.Surname
	case FieldNationalID:
		return e.NationalID
	case FieldCOAddress:
		return e.COAddress
	case FieldStreetAddress:
		return e.StreetAddress
	case FieldPostalCode:
		return e.PostalCode
	case FieldCity:
		return e.City
	case FieldCountry:
		return e.Country
	case FieldEmailWork:
		return e.EmailWork
	case FieldMobilePhonePrivate:
		return e.MobilePhonePrivate
	}
	return ""
}

// slot is the Person property the field is stored in.
func (f Field) slot(p *Person) *string {
	switch f {
	case FieldFirstName:
		return &p.FirstName
	case FieldSurname:
		return &p.LastName
	case FieldNationalID:
		return &p.NationalID
	case FieldCOAddress:
		return &p.AddressRow1
	case FieldStreetAddress:
		return &p.AddressRow2
	case FieldPostalCode:
		return &p.PostalCode
	case FieldCity:
		return &p.City
	case FieldCountry:
		return &p.Country
	case FieldEmailWork:
		return &p.EmailWork
	case FieldMobilePhonePrivate:
		return &p.Phone4
	}
	return nil
}

// ApplyFields writes the masked fields of values onto a copy of current and
// reports which of them actually changed (in message order). Values are
// trimmed of surrounding spaces first, because contract fields often carry
// them and Flex HRM should not store them; an empty value clears the field.
// When nothing changed, the caller skips the PUT.
func ApplyFields(current Person, values Employee, fields []Field) (Person, []Field) {
	next := current
	var changed []Field
	for _, f := range fields {
		slot := f.slot(&next)
		if slot == nil {
			continue
		}
		v := strings.TrimSpace(f.Value(values))
		if *slot == v {
			continue
		}
		*slot = v
		changed = append(changed, f)
	}
	return next, changed
}
