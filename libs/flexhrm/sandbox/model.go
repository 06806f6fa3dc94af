// Package sandbox is a real HTTP server implementing the Flex HRM model of
// shared/specs/flexhrm-api.md, with seeded data and test knobs, so flexflow's
// client and services are tested against HTTP, not mocks.
//
// The model lives under /api (the sandbox's API root is "<url>/api"); the test
// knobs live under /_sandbox/ and are not part of the model. Every knob is
// also a method on *Server for in-process tests. Choices the specification
// leaves open are listed in ../gaps.go.
package sandbox

import (
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

// Company is the wire shape of a company.
type Company struct {
	ID                 string `json:"id"`
	CompanyNumber      string `json:"companyNumber"`
	Name               string `json:"name"`
	OrganizationNumber string `json:"organizationNumber"`
}

// Employee is the wire shape of an employee; nil strings are JSON null.
type Employee struct {
	ID                           string       `json:"id"`
	InstanceID                   string       `json:"instanceId"`
	CompanyID                    string       `json:"companyId"`
	FirstName                    *string      `json:"firstName"`
	LastName                     *string      `json:"lastName"`
	Name                         string       `json:"name"`
	NationalIdentificationNumber *string      `json:"nationalIdentificationNumber"`
	AddressRow1                  *string      `json:"addressRow1"`
	AddressRow2                  *string      `json:"addressRow2"`
	PostalCode                   *string      `json:"postalCode"`
	City                         *string      `json:"city"`
	Country                      *string      `json:"country"`
	EmailWork                    *string      `json:"emailWork"`
	EmailPrivate                 *string      `json:"emailPrivate"`
	Phone1                       *string      `json:"phone1"`
	Phone2                       *string      `json:"phone2"`
	Phone3                       *string      `json:"phone3"`
	Phone4                       *string      `json:"phone4"`
	ImmediateManagerEmployeeID   *string      `json:"immediateManagerEmployeeId"`
	Employment                   []Employment `json:"employment"`
}

// Employment is one entry of Employee.employment.
type Employment struct {
	EmploymentNumber string `json:"employmentNumber"`
}

// EmploymentPeriod is the wire shape of a period; a nil ToDate is open-ended.
type EmploymentPeriod struct {
	ID               string        `json:"id"`
	CompanyID        string        `json:"companyId"`
	EmployeeID       string        `json:"employeeId"`
	InstanceID       string        `json:"instanceId"`
	FromDate         flexhrm.Date  `json:"fromDate"`
	ToDate           *flexhrm.Date `json:"toDate"`
	TitleID          *string       `json:"titleId"`
	EmploymentTypeID *string       `json:"employmentTypeId"`
}

// EmploymentTitle is the wire shape of a title.
type EmploymentTitle struct {
	ID        string `json:"id"`
	CompanyID string `json:"companyId"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Active    bool   `json:"active"`
}

// DocumentCategory is the wire shape of a document category.
type DocumentCategory struct {
	ID                       string `json:"id"`
	CompanyID                string `json:"companyId"`
	Name                     string `json:"name"`
	UsedInEmploymentRegister bool   `json:"usedInEmploymentRegister"`
}

// Document is the wire shape of an uploaded document.
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

// StoredDocument is a document as the sandbox keeps it: its metadata and the
// SHA-256 (hex) and size of the bytes received, so tests can assert exactly
// what was uploaded.
type StoredDocument struct {
	Document
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// SeedCompany is a company of the seed; an Inaccessible one exists but the
// API user may not see it (403).
type SeedCompany struct {
	Company
	Inaccessible bool `json:"inaccessible,omitempty"`
}

// SeedCredentials are the credentials the sandbox accepts.
type SeedCredentials struct {
	CustomerNumber string `json:"customerNumber"`
	Username       string `json:"username"`
	Password       string `json:"password"`
}

// Seed is the sandbox's initial data. Employees' name and instanceId are
// derived (first + last name; the seed's instance).
type Seed struct {
	Credentials        SeedCredentials    `json:"credentials"`
	InstanceID         string             `json:"instanceId"`
	Companies          []SeedCompany      `json:"companies"`
	Employees          []Employee         `json:"employees"`
	EmploymentTitles   []EmploymentTitle  `json:"employmentTitles"`
	EmploymentPeriods  []EmploymentPeriod `json:"employmentPeriods"`
	DocumentCategories []DocumentCategory `json:"documentCategories"`
}

// State is everything the sandbox stores, for tests to assert on.
type State struct {
	Companies          []SeedCompany      `json:"companies"`
	Employees          []Employee         `json:"employees"`
	EmploymentPeriods  []EmploymentPeriod `json:"employmentPeriods"`
	EmploymentTitles   []EmploymentTitle  `json:"employmentTitles"`
	DocumentCategories []DocumentCategory `json:"documentCategories"`
	Documents          []StoredDocument   `json:"documents"`
}

// RequestRecord is one request the sandbox served under /api.
type RequestRecord struct {
	Seq    int       `json:"seq"`
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	// Path is relative to the API root (without /api), query excluded.
	Path  string `json:"path"`
	Query string `json:"query"`
	// PathID is the model's path id (P1..P11), "" when no route matched.
	PathID string `json:"pathId"`
	Status int    `json:"status"`
	// Injected names the knob that answered instead of the model:
	// "rate-limit", "fail-next", "fail-rate", or "".
	Injected string `json:"injected,omitempty"`
}

// FailRule makes the next Count matching requests fail with Status. A rule
// matches on PathID ("P1".."P11"), Path (a prefix of the path relative to the
// API root) and Method; empty fields match everything.
type FailRule struct {
	PathID string `json:"pathId,omitempty"`
	Path   string `json:"path,omitempty"`
	Method string `json:"method,omitempty"`
	Count  int    `json:"count"`
	Status int    `json:"status"`
	// RetryAfterSeconds is sent as Retry-After (with 429 or 503) when > 0.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
}

// FailRate makes a fraction of matching requests fail with one of Statuses
// (chosen at random). Ratio 0 turns it off.
type FailRate struct {
	PathID   string  `json:"pathId,omitempty"`
	Path     string  `json:"path,omitempty"`
	Method   string  `json:"method,omitempty"`
	Ratio    float64 `json:"ratio"`
	Statuses []int   `json:"statuses"`
}

// RateLimit answers 429 RateLimited with Retry-After once more than
// RequestsPerSecond requests (token bucket of Burst) arrive. RequestsPerSecond
// 0 turns it off. RetryAfterSeconds 0 sends the whole seconds until the next
// token (at least 1).
type RateLimit struct {
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	Burst             int     `json:"burst,omitempty"`
	RetryAfterSeconds int     `json:"retryAfterSeconds,omitempty"`
}
