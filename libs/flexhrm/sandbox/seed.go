package sandbox

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

//go:embed defaultseed.json
var defaultSeedJSON []byte

// Employment numbers and ids of the default seed, for tests that need to
// name them (see defaultseed.json for the whole data set).
const (
	// CompanyA has employees 1000 (Maria, a manager with a work email), 1001
	// (Anna, full data, manager Maria), 1002 (no manager), 1003 (manager 1009
	// without a work email) and one of the two 2001s; categories "Oneflow
	// Documents" (in the register), "Oneflow Arkiv" (not) and "Anställningsavtal".
	CompanyA = "c0000000-0000-4000-8000-00000000000a"
	// CompanyB has the other 2001 and a "Oneflow Documents" category.
	CompanyB = "c0000000-0000-4000-8000-00000000000b"
	// CompanyC has 3001 and no Oneflow category.
	CompanyC = "c0000000-0000-4000-8000-00000000000c"
	// CompanyHidden exists but the API user may not access it (403).
	CompanyHidden = "c0000000-0000-4000-8000-00000000000d"

	EmployeeMaria           = "e0000000-0000-4000-8000-000000001000"
	EmployeeAnna            = "e0000000-0000-4000-8000-000000001001"
	EmployeeNoManager       = "e0000000-0000-4000-8000-000000001002"
	EmployeeManagerNoEmail  = "e0000000-0000-4000-8000-000000001003"
	EmployeeNils            = "e0000000-0000-4000-8000-000000001009"
	Employee2001A           = "e0000000-0000-4000-8000-00000000a001"
	Employee2001B           = "e0000000-0000-4000-8000-00000000b001"
	EmployeeCompanyC        = "e0000000-0000-4000-8000-00000000c001"
	EmployeeHidden          = "e0000000-0000-4000-8000-00000000d001"
	PeriodAnnaPast          = "90000000-0000-4000-8000-000000001011"
	PeriodAnnaCurrent       = "90000000-0000-4000-8000-000000001012"
	TitleProjektledare      = "71000000-0000-4000-8000-0000000000a1"
	TitleUtvecklare         = "71000000-0000-4000-8000-0000000000a2"
	TitleInactive           = "71000000-0000-4000-8000-0000000000a3"
	CategoryOneflowA        = "ca000000-0000-4000-8000-0000000000a1"
	CategoryOneflowArkivA   = "ca000000-0000-4000-8000-0000000000a2"
	CategoryNotOneflowA     = "ca000000-0000-4000-8000-0000000000a3"
	CategoryOneflowB        = "ca000000-0000-4000-8000-0000000000b1"
	CategoryCompanyC        = "ca000000-0000-4000-8000-0000000000c1"
	ManagerEmail            = "maria.manager@example.se"
	EmploymentNumberAnna    = "1001"
	EmploymentNumberNoMgr   = "1002"
	EmploymentNumberNoEmail = "1003"
	EmploymentNumberTwice   = "2001"
	EmploymentNumberNoCat   = "3001"
)

// DefaultSeed is the data set the spec's Sandbox section lists (the same as
// defaultseed.json). Each call returns a fresh copy.
func DefaultSeed() Seed {
	seed, err := ParseSeed(defaultSeedJSON)
	if err != nil {
		// The embedded file is covered by tests; failing here means the
		// binary was built from a broken tree, so an empty seed (which New
		// reports through Err) is the honest answer.
		return Seed{}
	}
	return seed
}

// LoadSeed reads and validates a seed file.
func LoadSeed(path string) (Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("sandbox: reading seed: %w", err)
	}
	return ParseSeed(data)
}

// ParseSeed reads and validates a seed; unknown properties are refused so a
// typo does not silently drop data.
func ParseSeed(data []byte) (Seed, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var seed Seed
	if err := dec.Decode(&seed); err != nil {
		return Seed{}, fmt.Errorf("sandbox: seed: %w", err)
	}
	if err := seed.Validate(); err != nil {
		return Seed{}, err
	}
	return seed, nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidPattern.MatchString(s) }

// Validate checks the seed holds to the model: ids are UUIDs and unique,
// references resolve, employment numbers are unique per company, national IDs
// are valid, and periods neither end before they start nor overlap.
func (s Seed) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("sandbox: seed: "+format, a...)) }
	creds := flexhrm.Credentials{CustomerNumber: s.Credentials.CustomerNumber, Username: s.Credentials.Username, Password: s.Credentials.Password}
	if err := creds.Validate(); err != nil {
		bad("credentials: %v", err)
	}
	if !isUUID(s.InstanceID) {
		bad("instanceId must be a UUID")
	}
	ids := map[string]bool{}
	id := func(kind, v string) {
		if !isUUID(v) {
			bad("%s id %q is not a UUID", kind, v)
			return
		}
		if ids[strings.ToLower(v)] {
			bad("%s id %q is used twice", kind, v)
		}
		ids[strings.ToLower(v)] = true
	}
	companies := map[string]bool{}
	for _, c := range s.Companies {
		id("company", c.ID)
		companies[strings.ToLower(c.ID)] = true
	}
	employees := map[string]Employee{}
	numbers := map[string]bool{}
	for _, e := range s.Employees {
		id("employee", e.ID)
		employees[strings.ToLower(e.ID)] = e
		if !companies[strings.ToLower(e.CompanyID)] {
			bad("employee %s: unknown company", e.ID)
		}
		if n := str(e.NationalIdentificationNumber); n != "" {
			if err := flexhrm.ValidatePersonnummer(n); err != nil {
				bad("employee %s: %v", e.ID, err)
			}
		}
		for _, emp := range e.Employment {
			key := strings.ToLower(e.CompanyID) + "/" + emp.EmploymentNumber
			if emp.EmploymentNumber == "" || numbers[key] {
				bad("employee %s: employment number empty or used twice in the company", e.ID)
			}
			numbers[key] = true
		}
	}
	for _, e := range s.Employees {
		if m := str(e.ImmediateManagerEmployeeID); m != "" {
			if _, ok := employees[strings.ToLower(m)]; !ok || strings.EqualFold(m, e.ID) {
				bad("employee %s: unknown manager", e.ID)
			}
		}
	}
	titles := map[string]EmploymentTitle{}
	for _, t := range s.EmploymentTitles {
		id("title", t.ID)
		titles[strings.ToLower(t.ID)] = t
		if !companies[strings.ToLower(t.CompanyID)] {
			bad("title %s: unknown company", t.ID)
		}
	}
	for i, p := range s.EmploymentPeriods {
		id("period", p.ID)
		e, ok := employees[strings.ToLower(p.EmployeeID)]
		if !ok || !strings.EqualFold(e.CompanyID, p.CompanyID) {
			bad("period %s: unknown employee or not of the period's company", p.ID)
		}
		if p.FromDate.IsZero() {
			bad("period %s: fromDate is required", p.ID)
		}
		if p.ToDate != nil && p.ToDate.Before(p.FromDate) {
			bad("period %s: toDate before fromDate", p.ID)
		}
		if t := str(p.TitleID); t != "" {
			if title, ok := titles[strings.ToLower(t)]; !ok || !strings.EqualFold(title.CompanyID, p.CompanyID) {
				bad("period %s: unknown title or of another company", p.ID)
			}
		}
		for _, q := range s.EmploymentPeriods[:i] {
			if overlaps(p, q) {
				bad("periods %s and %s overlap", q.ID, p.ID)
			}
		}
	}
	for _, c := range s.DocumentCategories {
		id("category", c.ID)
		if !companies[strings.ToLower(c.CompanyID)] {
			bad("category %s: unknown company", c.ID)
		}
	}
	return errors.Join(errs...)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// overlaps is the model's rule: same employee in the same company, inclusive
// ends, a nil toDate is infinity.
func overlaps(a, b EmploymentPeriod) bool {
	if !strings.EqualFold(a.EmployeeID, b.EmployeeID) || !strings.EqualFold(a.CompanyID, b.CompanyID) {
		return false
	}
	aEndsBeforeB := a.ToDate != nil && a.ToDate.Before(b.FromDate)
	bEndsBeforeA := b.ToDate != nil && b.ToDate.Before(a.FromDate)
	return !aEndsBeforeB && !bEndsBeforeA
}

// clone deep-copies a seed through JSON, so a Server never shares slices or
// pointers with its caller.
func (s Seed) clone() (Seed, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return Seed{}, err
	}
	var out Seed
	if err := json.Unmarshal(data, &out); err != nil {
		return Seed{}, err
	}
	return out, nil
}
