// Package contracttest is the one contract test suite for Flex HRM: written
// once, run against the sandbox in `make test` and against a real Flex HRM
// test environment when FLEXHRM_API_ROOT and FLEXHRM_CREDENTIALS are set, so
// the day real access exists the model (shared/specs/flexhrm-api.md) is
// checked in one command:
//
//	FLEXHRM_API_ROOT=https://stage-api.flexhrm.com/api FLEXHRM_CREDENTIALS=... \
//	  go test ./libs/flexhrm/contracttest -run TestRealFlexHRM -v
//
// The suite reads only, unless Target.Write (FLEXHRM_CONTRACT_TEST_WRITE=1).
// Writes change one employee and restore it, keep test periods in January
// 1900, and upload small PDFs.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

// Target is a Flex HRM to check.
type Target struct {
	// APIRoot and Credentials reach it.
	APIRoot     string
	Credentials flexhrm.Credentials
	// Options are the template of every client the suite builds (transport,
	// retry policy, logger); APIRoot and Credentials are set by the suite.
	Options flexhrm.Options
	// Fixtures name the data the suite relies on.
	Fixtures Fixtures
	// Write allows the suite to change data.
	Write bool
}

// Fixtures name data of the target. Empty optional fields skip the subtests
// that need them.
type Fixtures struct {
	// EmploymentNumber is held by exactly one employee. Empty: the suite
	// looks for one.
	EmploymentNumber string
	// AmbiguousEmploymentNumber is held by employees of two or more companies.
	AmbiguousEmploymentNumber string
	// UnknownEmploymentNumber is held by nobody (default "999999999").
	UnknownEmploymentNumber string
	// InaccessibleCompanyID is a company the API user may not access.
	InaccessibleCompanyID string
	// CompanyWithoutOneflowCategory is a company with no usable Oneflow category.
	CompanyWithoutOneflowCategory string
	// CategoryOutsideRegister is a category of WriteEmploymentNumber's company
	// that is not used in the employment register.
	CategoryOutsideRegister string
	// WriteEmploymentNumber is the employee the write tests change and restore.
	WriteEmploymentNumber string
}

// Environment variables read by TargetFromEnv.
const (
	EnvAPIRoot                = "FLEXHRM_API_ROOT"
	EnvCredentials            = "FLEXHRM_CREDENTIALS"
	EnvWrite                  = "FLEXHRM_CONTRACT_TEST_WRITE"
	EnvEmploymentNumber       = "FLEXHRM_CONTRACT_EMPLOYMENT_NUMBER"
	EnvAmbiguousNumber        = "FLEXHRM_CONTRACT_AMBIGUOUS_EMPLOYMENT_NUMBER"
	EnvUnknownNumber          = "FLEXHRM_CONTRACT_UNKNOWN_EMPLOYMENT_NUMBER"
	EnvInaccessibleCompany    = "FLEXHRM_CONTRACT_INACCESSIBLE_COMPANY_ID"
	EnvCompanyWithoutCategory = "FLEXHRM_CONTRACT_COMPANY_WITHOUT_ONEFLOW_CATEGORY"
	EnvCategoryOutside        = "FLEXHRM_CONTRACT_CATEGORY_OUTSIDE_REGISTER"
	EnvWriteNumber            = "FLEXHRM_CONTRACT_WRITE_EMPLOYMENT_NUMBER"
)

// TargetFromEnv builds the real target from the environment; false when
// FLEXHRM_API_ROOT or FLEXHRM_CREDENTIALS is not set.
func TargetFromEnv() (Target, bool, error) {
	root, creds := os.Getenv(EnvAPIRoot), os.Getenv(EnvCredentials)
	if root == "" || creds == "" {
		return Target{}, false, nil
	}
	parsed, err := flexhrm.ParseCredentials(creds)
	if err != nil {
		return Target{}, true, fmt.Errorf("%s: %w", EnvCredentials, err)
	}
	return Target{
		APIRoot:     root,
		Credentials: parsed,
		Write:       os.Getenv(EnvWrite) == "1",
		Fixtures: Fixtures{
			EmploymentNumber:              os.Getenv(EnvEmploymentNumber),
			AmbiguousEmploymentNumber:     os.Getenv(EnvAmbiguousNumber),
			UnknownEmploymentNumber:       os.Getenv(EnvUnknownNumber),
			InaccessibleCompanyID:         os.Getenv(EnvInaccessibleCompany),
			CompanyWithoutOneflowCategory: os.Getenv(EnvCompanyWithoutCategory),
			CategoryOutsideRegister:       os.Getenv(EnvCategoryOutside),
			WriteEmploymentNumber:         os.Getenv(EnvWriteNumber),
		},
	}, true, nil
}

// NewClient builds a client for the target with other credentials.
func (tg Target) NewClient(creds flexhrm.Credentials) (*flexhrm.Client, error) {
	opts := tg.Options
	opts.APIRoot = tg.APIRoot
	opts.Credentials = creds
	return flexhrm.New(opts)
}

// suite carries what the subtests share.
type suite struct {
	target Target
	client *flexhrm.Client
}

// Run checks the target against the model. Subtests are independent and
// named as sentences.
func Run(t *testing.T, target Target) {
	t.Helper()
	client, err := target.NewClient(target.Credentials)
	if err != nil {
		t.Fatalf("building the client: %v", err)
	}
	s := &suite{target: target, client: client}
	if s.target.Fixtures.UnknownEmploymentNumber == "" {
		s.target.Fixtures.UnknownEmploymentNumber = "999999999"
	}

	t.Run("check_passes_with_the_given_credentials", s.checkPasses)
	t.Run("check_blames_the_credentials_for_a_wrong_password", s.checkWrongPassword)
	t.Run("check_blames_the_customer_number_for_an_unknown_instance", s.checkWrongCustomerNumber)
	t.Run("check_blames_the_root_for_a_wrong_path", s.checkWrongRoot)
	t.Run("companies_are_listed_and_each_can_be_read", s.companies)
	t.Run("employee_is_found_by_employment_number_and_read_by_id", s.findAndGet)
	t.Run("unknown_employment_number_is_not_found", s.unknownNumber)
	t.Run("unknown_employee_id_is_not_found", s.unknownID)
	t.Run("employment_number_of_two_companies_is_ambiguous_and_names_them", s.ambiguous)
	t.Run("employees_are_listed_in_pages", s.paging)
	t.Run("periods_titles_categories_and_documents_of_an_employee_are_listed", s.employeeLists)
	t.Run("active_titles_are_the_active_part_of_all_titles", s.activeTitles)
	t.Run("inaccessible_company_is_forbidden", s.forbidden)
	t.Run("company_without_oneflow_category_yields_no_category", s.noOneflowCategory)

	if !target.Write {
		t.Log("write subtests skipped: read-only target (set " + EnvWrite + "=1 to include them)")
		return
	}
	t.Run("unchanged_employee_round_trips_through_update", s.roundTrip)
	t.Run("changed_field_is_stored_and_read_only_fields_are_ignored", s.updateFields)
	t.Run("invalid_national_id_is_refused_naming_the_field", s.invalidNationalID)
	t.Run("periods_are_created_updated_and_refused_when_overlapping", s.periods)
	t.Run("period_ending_before_it_starts_is_refused", s.periodEndsBeforeStart)
	t.Run("pdf_is_uploaded_streamed_and_listed", s.upload)
	t.Run("title_of_200_characters_is_accepted_and_201_refused", s.titleLength)
	t.Run("category_outside_the_employment_register_is_refused", s.categoryOutsideRegister)
	t.Run("upload_that_is_not_a_pdf_is_refused", s.notPDF)
	t.Run("upload_over_25_MiB_is_refused", s.tooLarge)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func (s *suite) checkPasses(t *testing.T) {
	if err := s.client.Check(ctxFor(t)); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func (s *suite) checkWrongPassword(t *testing.T) {
	creds := s.target.Credentials
	creds = flexhrm.Credentials{CustomerNumber: creds.CustomerNumber, Username: creds.Username, Password: creds.Password + "-wrong"}
	c, err := s.target.NewClient(creds)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(ctxFor(t))
	if !errors.Is(err, flexhrm.ErrUnauthorized) || errors.Is(err, flexhrm.ErrUnknownCustomerNumber) {
		t.Fatalf("Check with a wrong password = %v, want ErrUnauthorized (and not the customer number)", err)
	}
	if strings.Contains(err.Error(), creds.Password) {
		t.Fatal("the error repeats the password")
	}
}

func (s *suite) checkWrongCustomerNumber(t *testing.T) {
	creds := s.target.Credentials
	creds = flexhrm.Credentials{CustomerNumber: creds.CustomerNumber + "0", Username: creds.Username, Password: creds.Password}
	c, err := s.target.NewClient(creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctxFor(t)); !errors.Is(err, flexhrm.ErrUnknownCustomerNumber) {
		t.Fatalf("Check with an unknown customer number = %v, want ErrUnknownCustomerNumber", err)
	}
}

func (s *suite) checkWrongRoot(t *testing.T) {
	tg := s.target
	tg.APIRoot = strings.TrimRight(tg.APIRoot, "/") + "/not-the-api"
	c, err := tg.NewClient(tg.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctxFor(t)); !errors.Is(err, flexhrm.ErrBadAPIRoot) {
		t.Fatalf("Check against a wrong root = %v, want ErrBadAPIRoot", err)
	}
}

func (s *suite) companies(t *testing.T) {
	ctx := ctxFor(t)
	companies, err := s.client.ListCompanies(ctx)
	if err != nil {
		t.Fatalf("ListCompanies: %v", err)
	}
	if len(companies) == 0 {
		t.Fatal("the API user sees no company")
	}
	seen := map[string]bool{}
	for _, c := range companies {
		if c.ID == "" || c.Name == "" {
			t.Errorf("company without id or name: %+v", c)
		}
		if seen[c.ID] {
			t.Errorf("company %s listed twice (paging?)", c.ID)
		}
		seen[c.ID] = true
		got, err := s.client.GetCompany(ctx, c.ID)
		if err != nil {
			t.Fatalf("GetCompany(%s): %v", c.ID, err)
		}
		if got != c {
			t.Errorf("GetCompany(%s) = %+v, listed as %+v", c.ID, got, c)
		}
	}
}

// employee finds the fixture employee, discovering one when none is named.
func (s *suite) employee(t *testing.T, number string) flexhrm.Employee {
	t.Helper()
	ctx := ctxFor(t)
	if number == "" {
		number = s.discoverEmploymentNumber(t)
	}
	e, err := s.client.FindEmployee(ctx, number, "")
	if err != nil {
		t.Fatalf("FindEmployee(fixture): %v", err)
	}
	return e
}

func (s *suite) discoverEmploymentNumber(t *testing.T) string {
	t.Helper()
	ctx := ctxFor(t)
	companies, err := s.client.ListCompanies(ctx)
	if err != nil {
		t.Fatalf("ListCompanies: %v", err)
	}
	for _, c := range companies {
		page, err := s.client.ListEmployees(ctx, c.ID, 0, flexhrm.DefaultPageSize)
		if err != nil {
			t.Fatalf("ListEmployees: %v", err)
		}
		for _, e := range page.Items {
			n := e.EmploymentNumber()
			if n == "" {
				continue
			}
			if found, err := s.client.FindEmployees(ctx, n, ""); err == nil && len(found) == 1 {
				return n
			}
		}
	}
	t.Skip("no employee with a unique employment number found; set " + EnvEmploymentNumber)
	return ""
}

func (s *suite) findAndGet(t *testing.T) {
	ctx := ctxFor(t)
	e := s.employee(t, s.target.Fixtures.EmploymentNumber)
	if e.ID == "" || e.CompanyID == "" || len(e.Employment) == 0 {
		t.Fatalf("found employee lacks id, companyId or employment: %v", e)
	}
	got, err := s.client.GetEmployee(ctx, e.ID)
	if err != nil {
		t.Fatalf("GetEmployee: %v", err)
	}
	if got.ID != e.ID || got.CompanyID != e.CompanyID || got.FirstName != e.FirstName || got.LastName != e.LastName ||
		got.NationalIdentificationNumber != e.NationalIdentificationNumber || got.EmailWork != e.EmailWork {
		t.Errorf("GetEmployee differs from the employee found by number")
	}
	if got.Name != strings.TrimSpace(got.FirstName+" "+got.LastName) {
		t.Errorf("name is not first + last name")
	}
	if n := got.NationalIdentificationNumber; n != "" {
		if err := flexhrm.ValidatePersonnummer(n); err != nil {
			t.Errorf("stored national ID fails the model's validation: %v", err)
		}
	}
	if m := got.ImmediateManagerEmployeeID; m != "" {
		if _, err := s.client.GetEmployee(ctx, m); err != nil {
			t.Errorf("the manager does not resolve: %v", err)
		}
	}
	one, err := s.client.FindEmployee(ctx, e.EmploymentNumber(), e.CompanyID)
	if err != nil || one.ID != e.ID {
		t.Errorf("FindEmployee within the company = %v, %v", one, err)
	}
}

func (s *suite) unknownNumber(t *testing.T) {
	_, err := s.client.FindEmployee(ctxFor(t), s.target.Fixtures.UnknownEmploymentNumber, "")
	if !errors.Is(err, flexhrm.ErrNotFound) {
		t.Fatalf("FindEmployee(unknown) = %v, want ErrNotFound", err)
	}
}

func (s *suite) unknownID(t *testing.T) {
	_, err := s.client.GetEmployee(ctxFor(t), "00000000-0000-4000-8000-00000000dead")
	if !errors.Is(err, flexhrm.ErrNotFound) {
		t.Fatalf("GetEmployee(unknown) = %v, want ErrNotFound", err)
	}
	var apiErr *flexhrm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("GetEmployee(unknown) = %v, want an APIError with status 404", err)
	}
}

func (s *suite) ambiguous(t *testing.T) {
	number := s.target.Fixtures.AmbiguousEmploymentNumber
	if number == "" {
		t.Skip("no ambiguous employment number named")
	}
	ctx := ctxFor(t)
	_, err := s.client.FindEmployee(ctx, number, "")
	var amb *flexhrm.AmbiguousEmployeeError
	if !errors.As(err, &amb) || !errors.Is(err, flexhrm.ErrAmbiguousEmployee) {
		t.Fatalf("FindEmployee(ambiguous) = %v, want *AmbiguousEmployeeError", err)
	}
	if len(amb.Companies) < 2 {
		t.Fatalf("ambiguity names %d companies", len(amb.Companies))
	}
	for _, c := range amb.Companies {
		if c.Name == "" || !strings.Contains(err.Error(), c.Name) {
			t.Errorf("company %s is not named in %q", c.ID, err)
		}
		one, err := s.client.FindEmployee(ctx, number, c.ID)
		if err != nil || one.CompanyID != c.ID {
			t.Errorf("FindEmployee within company %s = %v", c.ID, err)
		}
	}
}

func (s *suite) paging(t *testing.T) {
	ctx := ctxFor(t)
	e := s.employee(t, s.target.Fixtures.EmploymentNumber)
	first, err := s.client.ListEmployees(ctx, e.CompanyID, 0, 1)
	if err != nil {
		t.Fatalf("ListEmployees: %v", err)
	}
	if len(first.Items) != 1 || first.PageSize != 1 || first.PageIndex != 0 {
		t.Fatalf("page 0 of size 1 = index %d size %d items %d", first.PageIndex, first.PageSize, len(first.Items))
	}
	if first.TotalCount < 1 {
		t.Fatalf("totalCount = %d, want the number of employees", first.TotalCount)
	}
	if first.TotalCount > 1 {
		second, err := s.client.ListEmployees(ctx, e.CompanyID, 1, 1)
		if err != nil {
			t.Fatalf("ListEmployees page 1: %v", err)
		}
		if len(second.Items) != 1 || second.Items[0].ID == first.Items[0].ID {
			t.Fatalf("page 1 repeats page 0 or is empty")
		}
	}
	beyond, err := s.client.ListEmployees(ctx, e.CompanyID, first.TotalCount, 1)
	if err != nil || len(beyond.Items) != 0 {
		t.Fatalf("a page past the end = %d items, %v; want none", len(beyond.Items), err)
	}
	all, err := s.client.ListEmployees(ctx, e.CompanyID, 0, 0)
	if err != nil || all.PageSize != flexhrm.DefaultPageSize {
		t.Fatalf("default page size = %d, %v; want %d", all.PageSize, err, flexhrm.DefaultPageSize)
	}
	status, body := s.raw(t, http.MethodGet, "/companies?pageSize=101", "", nil)
	if status != http.StatusBadRequest {
		t.Errorf("pageSize=101 answered %d %s, want 400", status, body)
	}
}

func (s *suite) employeeLists(t *testing.T) {
	ctx := ctxFor(t)
	e := s.employee(t, s.target.Fixtures.EmploymentNumber)
	periods, err := s.client.ListEmploymentPeriods(ctx, e.ID)
	if err != nil {
		t.Fatalf("ListEmploymentPeriods: %v", err)
	}
	for _, p := range periods {
		if p.EmployeeID != e.ID || p.CompanyID != e.CompanyID || p.FromDate.IsZero() {
			t.Errorf("period %s: wrong employee/company or no fromDate", p.ID)
		}
		if p.ToDate != nil && p.ToDate.Before(p.FromDate) {
			t.Errorf("period %s ends before it starts", p.ID)
		}
		if p.TitleID != "" {
			title, err := s.client.GetEmploymentTitle(ctx, p.TitleID)
			if err != nil || title.CompanyID != e.CompanyID {
				t.Errorf("period %s: title does not resolve in the company: %v", p.ID, err)
			}
		}
	}
	if _, err := s.client.ListEmploymentTitles(ctx, e.CompanyID, false); err != nil {
		t.Fatalf("ListEmploymentTitles: %v", err)
	}
	cats, err := s.client.ListDocumentCategories(ctx, e.CompanyID)
	if err != nil {
		t.Fatalf("ListDocumentCategories: %v", err)
	}
	for _, c := range cats {
		if c.CompanyID != e.CompanyID {
			t.Errorf("category %s of another company", c.ID)
		}
	}
	docs, err := s.client.ListEmploymentDocuments(ctx, e.CompanyID, e.ID, "")
	if err != nil {
		t.Fatalf("ListEmploymentDocuments: %v", err)
	}
	for _, d := range docs {
		if d.EmployeeID != e.ID {
			t.Errorf("document %s of another employee", d.ID)
		}
	}
}

func (s *suite) activeTitles(t *testing.T) {
	ctx := ctxFor(t)
	e := s.employee(t, s.target.Fixtures.EmploymentNumber)
	all, err := s.client.ListEmploymentTitles(ctx, e.CompanyID, false)
	if err != nil {
		t.Fatal(err)
	}
	active, err := s.client.ListEmploymentTitles(ctx, e.CompanyID, true)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ti := range all {
		if ti.Active {
			want = append(want, ti.ID)
		}
	}
	var got []string
	for _, ti := range active {
		got = append(got, ti.ID)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("active titles %v, want %v", got, want)
	}
	status, _ := s.raw(t, http.MethodGet, "/employmenttitles?companyId="+url.QueryEscape(e.CompanyID)+"&active=true", "", nil)
	if status != http.StatusOK {
		t.Fatalf("active=true answered %d", status)
	}
}

func (s *suite) forbidden(t *testing.T) {
	id := s.target.Fixtures.InaccessibleCompanyID
	if id == "" {
		t.Skip("no inaccessible company named")
	}
	ctx := ctxFor(t)
	if _, err := s.client.GetCompany(ctx, id); !errors.Is(err, flexhrm.ErrForbidden) {
		t.Errorf("GetCompany(inaccessible) = %v, want ErrForbidden", err)
	}
	if _, err := s.client.ListDocumentCategories(ctx, id); !errors.Is(err, flexhrm.ErrForbidden) {
		t.Errorf("ListDocumentCategories(inaccessible) = %v, want ErrForbidden", err)
	}
	companies, err := s.client.ListCompanies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range companies {
		if c.ID == id {
			t.Errorf("the inaccessible company is listed")
		}
	}
}

func (s *suite) noOneflowCategory(t *testing.T) {
	id := s.target.Fixtures.CompanyWithoutOneflowCategory
	if id == "" {
		t.Skip("no company without a Oneflow category named")
	}
	cats, err := s.client.ListDocumentCategories(ctxFor(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flexhrm.ChooseOneflowCategory(cats); !errors.Is(err, flexhrm.ErrNoOneflowCategory) {
		t.Fatalf("ChooseOneflowCategory = %v, want ErrNoOneflowCategory", err)
	}
}

// writeEmployee is the employee write tests may change; they restore it.
func (s *suite) writeEmployee(t *testing.T) flexhrm.Employee {
	t.Helper()
	number := s.target.Fixtures.WriteEmploymentNumber
	if number == "" {
		t.Skip("no employee for write tests named (" + EnvWriteNumber + ")")
	}
	return s.employee(t, number)
}

func (s *suite) restore(t *testing.T, original flexhrm.Employee) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.client.UpdateEmployee(ctx, original); err != nil {
			t.Errorf("restoring the employee: %v", err)
		}
	})
}

func (s *suite) roundTrip(t *testing.T) {
	ctx := ctxFor(t)
	e := s.writeEmployee(t)
	got, err := s.client.UpdateEmployee(ctx, e)
	if err != nil {
		t.Fatalf("UpdateEmployee(unchanged): %v", err)
	}
	if !sameEmployee(got, e) {
		t.Fatalf("an unchanged PUT changed the employee")
	}
}

func sameEmployee(a, b flexhrm.Employee) bool {
	return a.ID == b.ID && a.CompanyID == b.CompanyID && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Name == b.Name && a.NationalIdentificationNumber == b.NationalIdentificationNumber &&
		a.AddressRow1 == b.AddressRow1 && a.AddressRow2 == b.AddressRow2 && a.PostalCode == b.PostalCode &&
		a.City == b.City && a.Country == b.Country && a.EmailWork == b.EmailWork && a.EmailPrivate == b.EmailPrivate &&
		a.Phone1 == b.Phone1 && a.Phone2 == b.Phone2 && a.Phone3 == b.Phone3 && a.Phone4 == b.Phone4 &&
		a.ImmediateManagerEmployeeID == b.ImmediateManagerEmployeeID && slices.Equal(a.Employment, b.Employment)
}

func (s *suite) updateFields(t *testing.T) {
	ctx := ctxFor(t)
	e := s.writeEmployee(t)
	s.restore(t, e)
	changed := e
	changed.City = "Kontraktstad"
	changed.Name = "Someone Else"
	changed.ImmediateManagerEmployeeID = "00000000-0000-4000-8000-00000000beef"
	changed.Employment = []flexhrm.Employment{{EmploymentNumber: "0"}}
	got, err := s.client.UpdateEmployee(ctx, changed)
	if err != nil {
		t.Fatalf("UpdateEmployee: %v", err)
	}
	reread, err := s.client.GetEmployee(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []flexhrm.Employee{got, reread} {
		if x.City != "Kontraktstad" {
			t.Errorf("city not stored")
		}
		if x.Name != e.Name || x.ImmediateManagerEmployeeID != e.ImmediateManagerEmployeeID || !slices.Equal(x.Employment, e.Employment) {
			t.Errorf("read-only fields changed")
		}
	}
}

func (s *suite) invalidNationalID(t *testing.T) {
	ctx := ctxFor(t)
	e := s.writeEmployee(t)
	s.restore(t, e)
	bad := e
	bad.NationalIdentificationNumber = "19900312-9832" // Luhn digit off by one
	_, err := s.client.UpdateEmployee(ctx, bad)
	var apiErr *flexhrm.APIError
	if !errors.Is(err, flexhrm.ErrValidation) || !errors.As(err, &apiErr) {
		t.Fatalf("UpdateEmployee(bad national ID) = %v, want ErrValidation", err)
	}
	if !slices.ContainsFunc(apiErr.Fields, func(f string) bool { return strings.EqualFold(f, "nationalIdentificationNumber") }) {
		t.Errorf("fields %v do not name nationalIdentificationNumber", apiErr.Fields)
	}
	if strings.Contains(err.Error(), "9832") {
		t.Errorf("the error repeats the national ID: %q", err)
	}
}

func d(y int, m time.Month, day int) flexhrm.Date { return flexhrm.NewDate(y, m, day) }

func (s *suite) periods(t *testing.T) {
	ctx := ctxFor(t)
	e := s.writeEmployee(t)
	periods, err := s.client.ListEmploymentPeriods(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	from, to := d(1900, time.January, 1), d(1900, time.January, 31)
	var p flexhrm.EmploymentPeriod
	for _, q := range periods {
		if q.FromDate == from {
			p = q
		}
	}
	if p.ID == "" {
		p, err = s.client.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{
			CompanyID: e.CompanyID, EmployeeID: e.ID, InstanceID: e.InstanceID, FromDate: from, ToDate: &to,
		})
		if err != nil {
			t.Fatalf("CreateEmploymentPeriod: %v", err)
		}
	}
	if p.FromDate != from || p.EmployeeID != e.ID {
		t.Fatalf("created period reads back wrong")
	}
	shorter := d(1900, time.January, 30)
	p.ToDate = &shorter
	updated, err := s.client.UpdateEmploymentPeriod(ctx, p)
	if err != nil || updated.ToDate == nil || *updated.ToDate != shorter {
		t.Fatalf("UpdateEmploymentPeriod = %v, %v", updated.ToDate, err)
	}
	updated.ToDate = &to
	if _, err := s.client.UpdateEmploymentPeriod(ctx, updated); err != nil {
		t.Fatalf("UpdateEmploymentPeriod back: %v", err)
	}
	for _, tc := range []struct {
		name     string
		from, to flexhrm.Date
	}{
		{"inside", d(1900, time.January, 10), d(1900, time.January, 20)},
		{"sharing_the_last_day", to, d(1900, time.February, 28)},
		{"sharing_the_first_day", d(1899, time.December, 1), from},
	} {
		_, err := s.client.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{
			CompanyID: e.CompanyID, EmployeeID: e.ID, InstanceID: e.InstanceID, FromDate: tc.from, ToDate: &tc.to,
		})
		if !errors.Is(err, flexhrm.ErrOverlappingDates) {
			t.Errorf("%s: CreateEmploymentPeriod = %v, want ErrOverlappingDates", tc.name, err)
		}
	}
}

func (s *suite) periodEndsBeforeStart(t *testing.T) {
	e := s.writeEmployee(t)
	body, _ := json.Marshal(map[string]any{
		"companyId": e.CompanyID, "employeeId": e.ID, "instanceId": e.InstanceID,
		"fromDate": "1899-06-30T00:00:00", "toDate": "1899-06-01T00:00:00",
	})
	status, resp := s.raw(t, http.MethodPost, "/employmentperiods", "application/json", bytes.NewReader(body))
	if status != http.StatusBadRequest {
		t.Fatalf("toDate before fromDate answered %d %s, want 400", status, resp)
	}
	// The client refuses it before asking.
	to := d(1899, time.June, 1)
	_, err := s.client.CreateEmploymentPeriod(ctxFor(t), flexhrm.EmploymentPeriod{
		CompanyID: e.CompanyID, EmployeeID: e.ID, InstanceID: e.InstanceID, FromDate: d(1899, time.June, 30), ToDate: &to,
	})
	if !errors.Is(err, flexhrm.ErrValidation) {
		t.Fatalf("client accepted a period ending before it starts: %v", err)
	}
}

// uploadTarget is the write employee and its Oneflow category.
func (s *suite) uploadTarget(t *testing.T) (flexhrm.Employee, flexhrm.DocumentCategory) {
	t.Helper()
	e := s.writeEmployee(t)
	cats, err := s.client.ListDocumentCategories(ctxFor(t), e.CompanyID)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := flexhrm.ChooseOneflowCategory(cats)
	if err != nil {
		t.Skipf("the write employee's company has no Oneflow category: %v", err)
	}
	return e, cat
}

func (s *suite) upload(t *testing.T) {
	ctx := ctxFor(t)
	e, cat := s.uploadTarget(t)
	pdf := MinimalPDF("contract test")
	title := "Contract test – " + time.Now().UTC().Format("20060102T150405.000") + " - Signed.pdf"
	doc, err := s.client.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{
		EmployeeID: e.ID, CategoryID: cat.ID, Title: title, PDF: bytes.NewReader(pdf), Size: -1,
	})
	if err != nil {
		t.Fatalf("UploadEmployeeDocument: %v", err)
	}
	if doc.ID == "" || doc.Title != title || doc.EmployeeID != e.ID || doc.DocumentCategoryID != cat.ID || doc.ContentLength != int64(len(pdf)) {
		t.Errorf("uploaded document reads back wrong: %+v", doc)
	}
	docs, err := s.client.ListEmploymentDocuments(ctx, e.CompanyID, e.ID, cat.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(docs, func(x flexhrm.Document) bool { return x.ID == doc.ID }) {
		t.Errorf("the uploaded document is not listed")
	}
}

func (s *suite) titleLength(t *testing.T) {
	ctx := ctxFor(t)
	e, cat := s.uploadTarget(t)
	pdf := MinimalPDF("title length")
	// "ö" is two bytes: the limit counts characters.
	ok := strings.Repeat("ö", flexhrm.MaxDocumentTitleLength-4) + ".pdf"
	if _, err := s.client.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: e.ID, CategoryID: cat.ID, Title: ok, PDF: bytes.NewReader(pdf), Size: int64(len(pdf))}); err != nil {
		t.Errorf("a title of exactly 200 characters was refused: %v", err)
	}
	long := strings.Repeat("ö", flexhrm.MaxDocumentTitleLength-3) + ".pdf"
	_, err := s.client.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: e.ID, CategoryID: cat.ID, Title: long, PDF: bytes.NewReader(pdf), Size: int64(len(pdf))})
	if !errors.Is(err, flexhrm.ErrNameTooLong) {
		t.Errorf("a title of 201 characters = %v, want ErrNameTooLong", err)
	}
}

func (s *suite) categoryOutsideRegister(t *testing.T) {
	id := s.target.Fixtures.CategoryOutsideRegister
	if id == "" {
		t.Skip("no category outside the employment register named")
	}
	e := s.writeEmployee(t)
	pdf := MinimalPDF("outside")
	_, err := s.client.UploadEmployeeDocument(ctxFor(t), flexhrm.UploadRequest{EmployeeID: e.ID, CategoryID: id, Title: "outside.pdf", PDF: bytes.NewReader(pdf), Size: int64(len(pdf))})
	if !errors.Is(err, flexhrm.ErrCategoryNotInEmploymentRegister) {
		t.Fatalf("upload to a category outside the register = %v, want ErrCategoryNotInEmploymentRegister", err)
	}
}

func (s *suite) notPDF(t *testing.T) {
	e, cat := s.uploadTarget(t)
	body, contentType := multipartBody(t, "text/plain", strings.NewReader("not a pdf"))
	status, resp := s.raw(t, http.MethodPost, uploadPath(e.ID, cat.ID, "not-a-pdf.txt"), contentType, body)
	if status != http.StatusUnsupportedMediaType {
		t.Fatalf("a text/plain upload answered %d %s, want 415", status, resp)
	}
}

func (s *suite) tooLarge(t *testing.T) {
	e, cat := s.uploadTarget(t)
	body, contentType := multipartBody(t, "application/pdf", io.LimitReader(zeros{}, flexhrm.MaxUploadBytes+1))
	status, resp := s.raw(t, http.MethodPost, uploadPath(e.ID, cat.ID, "too-large.pdf"), contentType, body)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("an upload of 25 MiB + 1 byte answered %d %s, want 413", status, resp)
	}
	// The client refuses a known size at once, and an unknown one as soon as
	// it passes the limit.
	_, err := s.client.UploadEmployeeDocument(ctxFor(t), flexhrm.UploadRequest{EmployeeID: e.ID, CategoryID: cat.ID, Title: "too-large.pdf", PDF: io.LimitReader(zeros{}, flexhrm.MaxUploadBytes+1), Size: -1})
	if !errors.Is(err, flexhrm.ErrPayloadTooLarge) {
		t.Fatalf("client upload over 25 MiB = %v, want ErrPayloadTooLarge", err)
	}
}

func uploadPath(employeeID, categoryID, title string) string {
	return "/employeedocuments?employeeId=" + url.QueryEscape(employeeID) + "&documentCategoryId=" + url.QueryEscape(categoryID) + "&title=" + url.QueryEscape(title)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// multipartBody streams one part named "file" of the given content type.
func multipartBody(t *testing.T, partType string, content io.Reader) (io.Reader, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="upload"`)
		h.Set("Content-Type", partType)
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, content)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// raw sends a request the client would never send, to check the server's
// own rules. It returns the status and the body (bounded).
func (s *suite) raw(t *testing.T, method, path, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), method, strings.TrimRight(s.target.APIRoot, "/")+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+s.target.Credentials.Encoded())
	req.Header.Set("Instance", s.target.Credentials.CustomerNumber)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	transport := s.target.Options.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(data)
}

// MinimalPDF is a small valid one-page PDF carrying text, built by hand so
// the suite needs no PDF library.
func MinimalPDF(text string) []byte {
	text = strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(text)
	stream := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}
