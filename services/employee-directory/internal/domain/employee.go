package domain

import "strings"

// Person is a Flex HRM employee record as employee-directory needs it: the
// writable fields, the read-only identity, and the manager link. Adapters
// translate the vendor object into a Person and back.
type Person struct {
	// ID, CompanyID and InstanceID are Flex HRM's identifiers (read-only).
	ID         string
	CompanyID  string
	InstanceID string
	// FullName is Flex HRM's `name` (first + last, read-only).
	FullName string
	// EmploymentNumbers are the record's `employment[].employmentNumber`.
	EmploymentNumbers []string
	// ManagerID is `immediateManagerEmployeeId`; empty when there is none.
	ManagerID string

	// Writable fields, named after their Flex HRM properties.
	FirstName   string
	LastName    string
	NationalID  string // Personal data.
	AddressRow1 string
	AddressRow2 string
	PostalCode  string
	City        string
	Country     string
	EmailWork   string // Personal data.
	Phone4      string // Personal data (private mobile).
}

// DisplayName is the name Flex HRM shows: its own `name` when set, else first
// and last name joined.
func (p Person) DisplayName() string {
	if n := strings.TrimSpace(p.FullName); n != "" {
		return n
	}
	return strings.TrimSpace(strings.TrimSpace(p.FirstName) + " " + strings.TrimSpace(p.LastName))
}

// Employee is the directory's view of one employee: the 15 mapped fields of
// specs/mapping.md plus the names and ids that let callers act on them.
type Employee struct {
	EmployeeNumber     string
	FirstName          string
	Surname            string
	NationalID         string // Personal data.
	COAddress          string
	StreetAddress      string
	PostalCode         string
	City               string
	Country            string
	EmailWork          string // Personal data.
	MobilePhonePrivate string // Personal data.
	ManagerName        string
	ManagerEmail       string // Personal data.
	Position           string
	EmploymentStart    Date
	EmploymentEnd      Date
	FullName           string
	Flex               FlexIDs
}

// FlexIDs are the Flex HRM identifiers behind an Employee's values.
type FlexIDs struct {
	EmployeeID         string
	CompanyID          string
	ManagerEmployeeID  string
	EmploymentPeriodID string
	TitleID            string
}

// EmployeeSources is everything MapEmployee reads. Manager, Period and Title
// are nil when the employee has none (or, for the manager, when Flex HRM no
// longer knows the referenced employee).
type EmployeeSources struct {
	// EmployeeNumber is the number the caller asked for; empty picks the
	// record's first employment number.
	EmployeeNumber string
	Person         Person
	Manager        *Person
	Period         *Period
	Title          *Title
}

// MapEmployee applies specs/mapping.md: the Flex HRM record's own fields, the
// manager's name and work email, and position and dates from the current
// employment period.
func MapEmployee(src EmployeeSources) Employee {
	p := src.Person
	e := Employee{
		EmployeeNumber:     employeeNumberOf(p, src.EmployeeNumber),
		FirstName:          p.FirstName,
		Surname:            p.LastName,
		NationalID:         p.NationalID,
		COAddress:          p.AddressRow1,
		StreetAddress:      p.AddressRow2,
		PostalCode:         p.PostalCode,
		City:               p.City,
		Country:            p.Country,
		EmailWork:          p.EmailWork,
		MobilePhonePrivate: p.Phone4,
		FullName:           p.DisplayName(),
		Flex: FlexIDs{
			EmployeeID:        p.ID,
			CompanyID:         p.CompanyID,
			ManagerEmployeeID: p.ManagerID,
		},
	}
	if m := src.Manager; m != nil {
		e.ManagerName = m.DisplayName()
		e.ManagerEmail = m.EmailWork
	}
	if per := src.Period; per != nil {
		e.EmploymentStart = per.From
		e.EmploymentEnd = per.To
		e.Flex.EmploymentPeriodID = per.ID
		e.Flex.TitleID = per.TitleID
		// A title that no longer exists leaves the position empty but keeps
		// its id, so a caller can still see what the period points at.
		if t := src.Title; t != nil && t.ID == per.TitleID {
			e.Position = t.Name
		}
	}
	return e
}

// employeeNumberOf is the number the caller found the record by (Flex HRM
// matched it), else the record's first employment number (listing).
func employeeNumberOf(p Person, asked string) string {
	if asked != "" || len(p.EmploymentNumbers) == 0 {
		return asked
	}
	return p.EmploymentNumbers[0]
}

// Company is a Flex HRM company the API user can see.
type Company struct {
	ID                 string
	CompanyNumber      string
	Name               string
	OrganizationNumber string
}
