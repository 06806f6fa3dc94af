package flexhrm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/contracttest"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// fastRetry keeps retry tests short: they assert behaviour, not time.
var fastRetry = flexhrm.RetryPolicy{MaxElapsedTime: 2 * time.Second, InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond}

// startSandbox serves the sandbox on loopback for one test.
func startSandbox(t testing.TB, seed sandbox.Seed, opts ...sandbox.Option) (*sandbox.Server, string) {
	t.Helper()
	srv := sandbox.New(seed, opts...)
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, url
}

// newClient builds a client for root with the sandbox's credentials unless
// the options say otherwise.
func newClient(t testing.TB, srv *sandbox.Server, root string, tweak ...func(*flexhrm.Options)) *flexhrm.Client {
	t.Helper()
	creds, err := flexhrm.ParseCredentials(srv.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	opts := flexhrm.Options{APIRoot: root, Credentials: creds, Retry: fastRetry}
	for _, f := range tweak {
		f(&opts)
	}
	c, err := flexhrm.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sandboxClient(t testing.TB, tweak ...func(*flexhrm.Options)) (*sandbox.Server, *flexhrm.Client) {
	t.Helper()
	srv, url := startSandbox(t, sandbox.DefaultSeed())
	return srv, newClient(t, srv, url, tweak...)
}

// requestsTo counts the logged requests of one path id.
func requestsTo(srv *sandbox.Server, pathID string) []sandbox.RequestRecord {
	var out []sandbox.RequestRecord
	for _, r := range srv.Requests() {
		if r.PathID == pathID {
			out = append(out, r)
		}
	}
	return out
}

func TestNewRefusesUnusableOptions(t *testing.T) {
	creds := flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"}
	bad := flexhrm.DefaultPaths()
	bad.GetEmployee = ""
	tests := []struct {
		name string
		opts flexhrm.Options
		want string
	}{
		{"missing_root", flexhrm.Options{Credentials: creds}, "API root is required"},
		{"root_without_scheme", flexhrm.Options{APIRoot: "api.flexhrm.com/api", Credentials: creds}, "http(s) URL"},
		{"root_with_user_info", flexhrm.Options{APIRoot: "https://u:p@api.flexhrm.com/api", Credentials: creds}, "user info"},
		{"missing_credentials", flexhrm.Options{APIRoot: "https://api.flexhrm.com/api"}, "credentials are required"},
		{"credentials_with_a_space", flexhrm.Options{APIRoot: "https://api.flexhrm.com/api", Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "a b", Password: "p"}}, "username contains white space"},
		{"broken_paths", flexhrm.Options{APIRoot: "https://api.flexhrm.com/api", Credentials: creds, Paths: &bad}, "GetEmployee is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := flexhrm.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestClientReadsTheSeededModel(t *testing.T) {
	srv, c := sandboxClient(t)
	ctx := t.Context()

	anna, err := c.FindEmployee(ctx, sandbox.EmploymentNumberAnna, "")
	if err != nil {
		t.Fatal(err)
	}
	if anna.ID != sandbox.EmployeeAnna || anna.Name != "Anna Lindström" || anna.AddressRow1 != "c/o Berg" ||
		anna.Phone4 != "+46701740605" || anna.EmailPrivate != "" || anna.ImmediateManagerEmployeeID != sandbox.EmployeeMaria {
		t.Fatalf("Anna reads wrong: %+v", anna)
	}
	manager, err := c.GetEmployee(ctx, anna.ImmediateManagerEmployeeID)
	if err != nil || manager.EmailWork != sandbox.ManagerEmail {
		t.Fatalf("manager = %v, %v", manager.EmailWork, err)
	}
	periods, err := c.ListEmploymentPeriods(ctx, anna.ID)
	if err != nil || len(periods) != 2 {
		t.Fatalf("periods = %d, %v", len(periods), err)
	}
	current, ok := flexhrm.CurrentPeriod(periods, time.Now())
	if !ok || current.ID != sandbox.PeriodAnnaCurrent || current.ToDate != nil {
		t.Fatalf("current period = %+v", current)
	}
	title, err := c.GetEmploymentTitle(ctx, current.TitleID)
	if err != nil || title.Name != "Projektledare" {
		t.Fatalf("title = %+v, %v", title, err)
	}
	active, err := c.ListEmploymentTitles(ctx, sandbox.CompanyA, true)
	if err != nil || slices.ContainsFunc(active, func(t flexhrm.EmploymentTitle) bool { return t.ID == sandbox.TitleInactive }) {
		t.Fatalf("active titles include the inactive one: %v", err)
	}
	cats, err := c.ListDocumentCategories(ctx, anna.CompanyID)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := flexhrm.ChooseOneflowCategory(cats)
	if err != nil || cat.ID != sandbox.CategoryOneflowA {
		t.Fatalf("category = %+v, %v", cat, err)
	}

	noManager, err := c.FindEmployee(ctx, sandbox.EmploymentNumberNoMgr, "")
	if err != nil || noManager.ImmediateManagerEmployeeID != "" {
		t.Fatalf("employee without manager = %+v, %v", noManager, err)
	}
	cecilia, err := c.FindEmployee(ctx, sandbox.EmploymentNumberNoEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	nils, err := c.GetEmployee(ctx, cecilia.ImmediateManagerEmployeeID)
	if err != nil || nils.EmailWork != "" {
		t.Fatalf("manager without email = %q, %v", nils.EmailWork, err)
	}
	eva, err := c.FindEmployee(ctx, sandbox.EmploymentNumberTwice, sandbox.CompanyB)
	if err != nil || eva.ID != sandbox.Employee2001B {
		t.Fatalf("2001 in company B = %v, %v", eva.ID, err)
	}

	// P1 asks with the model's parameter names.
	p1 := requestsTo(srv, "P1")
	if len(p1) == 0 || !strings.Contains(p1[0].Query, "employmentnumber=1001") {
		t.Fatalf("P1 query = %v", p1)
	}
}

func TestListsFollowEveryPage(t *testing.T) {
	seed := sandbox.DefaultSeed()
	for i := range 230 {
		seed.Companies = append(seed.Companies, sandbox.SeedCompany{Company: sandbox.Company{
			ID: fmt.Sprintf("c1000000-0000-4000-8000-%012d", i), CompanyNumber: fmt.Sprint(100 + i), Name: fmt.Sprintf("Bolag %d AB", i),
		}})
	}
	srv, url := startSandbox(t, seed)
	c := newClient(t, srv, url)
	companies, err := c.ListCompanies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(companies) != 233 {
		t.Fatalf("ListCompanies = %d companies, want 233 (3 seeded + 230)", len(companies))
	}
	var queries []string
	for _, r := range requestsTo(srv, "P8") {
		queries = append(queries, r.Query)
	}
	want := []string{"pageIndex=0&pageSize=100", "pageIndex=1&pageSize=100", "pageIndex=2&pageSize=100"}
	if !slices.Equal(queries, want) {
		t.Fatalf("queries = %v, want %v", queries, want)
	}
}

func TestListEmployeesPages(t *testing.T) {
	_, c := sandboxClient(t)
	page, err := c.ListEmployees(t.Context(), sandbox.CompanyA, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if page.PageIndex != 1 || page.PageSize != 2 || page.TotalCount != 6 || len(page.Items) != 2 || page.Items[0].ID != sandbox.EmployeeNoManager {
		t.Fatalf("page = %d/%d total %d items %d", page.PageIndex, page.PageSize, page.TotalCount, len(page.Items))
	}
	if _, err := c.ListEmployees(t.Context(), "", 0, flexhrm.MaxPageSize+1); !errors.Is(err, flexhrm.ErrValidation) {
		t.Fatalf("page size over the max = %v, want ErrValidation", err)
	}
	all, err := c.ListEmployees(t.Context(), "", 0, 0)
	if err != nil || all.TotalCount != 8 {
		t.Fatalf("all accessible employees = %d, %v; want 8 (the inaccessible company's one is hidden)", all.TotalCount, err)
	}
}

func TestWritesReachTheSandboxState(t *testing.T) {
	srv, c := sandboxClient(t)
	ctx := t.Context()
	anna, err := c.GetEmployee(ctx, sandbox.EmployeeAnna)
	if err != nil {
		t.Fatal(err)
	}
	anna.City = "Lund"
	anna.EmailPrivate = "anna.privat@example.se"
	if _, err := c.UpdateEmployee(ctx, anna); err != nil {
		t.Fatal(err)
	}
	to := flexhrm.NewDate(2030, time.December, 31)
	created, err := c.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{
		CompanyID: anna.CompanyID, EmployeeID: anna.ID, InstanceID: anna.InstanceID,
		FromDate: flexhrm.NewDate(2018, time.January, 1), ToDate: &to, TitleID: sandbox.TitleUtvecklare,
	})
	if !errors.Is(err, flexhrm.ErrOverlappingDates) {
		t.Fatalf("a period over Anna's others = %v, want ErrOverlappingDates", err)
	}
	end := flexhrm.NewDate(2018, time.December, 31)
	created, err = c.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{
		CompanyID: anna.CompanyID, EmployeeID: anna.ID, InstanceID: anna.InstanceID,
		FromDate: flexhrm.NewDate(2018, time.January, 1), ToDate: &end, TitleID: sandbox.TitleUtvecklare,
	})
	if err != nil || created.ID == "" {
		t.Fatalf("CreateEmploymentPeriod = %v", err)
	}
	state := srv.State()
	for _, e := range state.Employees {
		if e.ID == anna.ID && (deref(e.City) != "Lund" || deref(e.EmailPrivate) != "anna.privat@example.se" || deref(e.Phone1) != "" || e.Phone1 != nil) {
			t.Errorf("stored Anna: city %q private %q phone1 %v", deref(e.City), deref(e.EmailPrivate), e.Phone1)
		}
	}
	if !slices.ContainsFunc(state.EmploymentPeriods, func(p sandbox.EmploymentPeriod) bool { return p.ID == created.ID && *p.ToDate == end }) {
		t.Errorf("created period not stored")
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestEveryTypedError drives the client into each typed error against the
// real sandbox over loopback.
func TestEveryTypedError(t *testing.T) {
	pdf := contracttest.MinimalPDF("typed errors")
	upload := func(c *flexhrm.Client, category, title string) error {
		_, err := c.UploadEmployeeDocument(context.Background(), flexhrm.UploadRequest{
			EmployeeID: sandbox.EmployeeAnna, CategoryID: category, Title: title, PDF: bytes.NewReader(pdf), Size: int64(len(pdf)),
		})
		return err
	}
	tests := []struct {
		name       string
		call       func(t *testing.T, srv *sandbox.Server, c *flexhrm.Client) error
		want       error
		wantStatus int
	}{
		{"unknown_employee_id_is_not_found", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			_, err := c.GetEmployee(t.Context(), "00000000-0000-4000-8000-000000000000")
			return err
		}, flexhrm.ErrNotFound, 404},
		{"unknown_employment_number_is_not_found", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			_, err := c.FindEmployee(t.Context(), "424242", "")
			return err
		}, flexhrm.ErrNotFound, 0},
		{"employment_number_of_two_companies_is_ambiguous", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			_, err := c.FindEmployee(t.Context(), sandbox.EmploymentNumberTwice, "")
			return err
		}, flexhrm.ErrAmbiguousEmployee, 0},
		{"overlapping_period_is_refused", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			_, err := c.CreateEmploymentPeriod(t.Context(), flexhrm.EmploymentPeriod{CompanyID: sandbox.CompanyA, EmployeeID: sandbox.EmployeeAnna,
				InstanceID: "0f1e0000-0000-4000-8000-000000000001", FromDate: flexhrm.NewDate(2021, 12, 31)})
			return err
		}, flexhrm.ErrOverlappingDates, 400},
		{"title_over_200_characters_is_too_long", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			return upload(c, sandbox.CategoryOneflowA, strings.Repeat("x", 201))
		}, flexhrm.ErrNameTooLong, 400},
		{"category_outside_the_register_is_refused", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			return upload(c, sandbox.CategoryOneflowArkivA, "x.pdf")
		}, flexhrm.ErrCategoryNotInEmploymentRegister, 400},
		{"company_without_oneflow_category_has_none", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			cats, err := c.ListDocumentCategories(t.Context(), sandbox.CompanyC)
			if err != nil {
				return err
			}
			_, err = flexhrm.ChooseOneflowCategory(cats)
			return err
		}, flexhrm.ErrNoOneflowCategory, 0},
		{"wrong_password_is_unauthorized", func(t *testing.T, srv *sandbox.Server, _ *flexhrm.Client) error {
			c, err := flexhrm.New(flexhrm.Options{APIRoot: srv.URL(), Credentials: flexhrm.Credentials{CustomerNumber: "1001", Username: "flexflow-api", Password: "wrong"}})
			if err != nil {
				return err
			}
			_, err = c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
			return err
		}, flexhrm.ErrUnauthorized, 401},
		{"unknown_customer_number_is_unauthorized_and_named", func(t *testing.T, srv *sandbox.Server, _ *flexhrm.Client) error {
			c, err := flexhrm.New(flexhrm.Options{APIRoot: srv.URL(), Credentials: flexhrm.Credentials{CustomerNumber: "9999", Username: "flexflow-api", Password: "sandbox:pass:word"}})
			if err != nil {
				return err
			}
			_, err = c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
			return err
		}, flexhrm.ErrUnknownCustomerNumber, 401},
		{"inaccessible_company_is_forbidden", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			_, err := c.GetEmployee(t.Context(), sandbox.EmployeeHidden)
			return err
		}, flexhrm.ErrForbidden, 403},
		{"rate_limit_outlasting_the_retries_is_rate_limited", func(t *testing.T, srv *sandbox.Server, c *flexhrm.Client) error {
			_ = srv.FailNext(sandbox.FailRule{PathID: "P8", Count: 1000, Status: 429})
			_, err := c.ListCompanies(t.Context())
			return err
		}, flexhrm.ErrRateLimited, 429},
		{"server_errors_outlasting_the_retries_are_unavailable", func(t *testing.T, srv *sandbox.Server, c *flexhrm.Client) error {
			_ = srv.FailNext(sandbox.FailRule{PathID: "P8", Count: 1000, Status: 503})
			_, err := c.GetCompany(t.Context(), sandbox.CompanyA)
			return err
		}, flexhrm.ErrUnavailable, 503},
		{"unsupported_media_type_answer_is_typed", func(t *testing.T, srv *sandbox.Server, c *flexhrm.Client) error {
			_ = srv.FailNext(sandbox.FailRule{PathID: "P10", Count: 1, Status: 415})
			return upload(c, sandbox.CategoryOneflowA, "x.pdf")
		}, flexhrm.ErrUnsupportedMediaType, 415},
		{"payload_too_large_answer_is_typed", func(t *testing.T, srv *sandbox.Server, c *flexhrm.Client) error {
			_ = srv.FailNext(sandbox.FailRule{PathID: "P10", Count: 1, Status: 413})
			return upload(c, sandbox.CategoryOneflowA, "x.pdf")
		}, flexhrm.ErrPayloadTooLarge, 413},
		{"invalid_national_id_fails_validation", func(t *testing.T, _ *sandbox.Server, c *flexhrm.Client) error {
			e, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
			if err != nil {
				return err
			}
			e.NationalIdentificationNumber = "19900312-9830"
			_, err = c.UpdateEmployee(t.Context(), e)
			return err
		}, flexhrm.ErrValidation, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := sandboxClient(t, func(o *flexhrm.Options) {
				o.Retry = flexhrm.RetryPolicy{MaxElapsedTime: 200 * time.Millisecond, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}
			})
			err := tc.call(t, srv, c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.wantStatus != 0 {
				var apiErr *flexhrm.APIError
				if !errors.As(err, &apiErr) || apiErr.Status != tc.wantStatus {
					t.Fatalf("err = %v, want an APIError with status %d", err, tc.wantStatus)
				}
			}
		})
	}
}

func TestAmbiguousEmployeeNamesTheCompaniesNotThePeople(t *testing.T) {
	_, c := sandboxClient(t)
	_, err := c.FindEmployee(t.Context(), sandbox.EmploymentNumberTwice, "")
	var amb *flexhrm.AmbiguousEmployeeError
	if !errors.As(err, &amb) {
		t.Fatalf("err = %v", err)
	}
	var names []string
	for _, co := range amb.Companies {
		names = append(names, co.Name)
	}
	if !slices.Equal(names, []string{"Flexflow Demo AB", "Flexflow Service AB"}) {
		t.Fatalf("companies = %v", names)
	}
	msg := err.Error()
	for _, want := range []string{`"2001"`, `"Flexflow Demo AB" (company number 1)`, `"Flexflow Service AB" (company number 2)`} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	for _, personal := range []string{"Erik", "Eva", "Ahl", "Berg", "19881130", "example.se"} {
		if strings.Contains(msg, personal) {
			t.Errorf("%q names a person (%q)", msg, personal)
		}
	}
}

func TestOtherFailuresAreAPIErrorsWithStatusCodeAndMessage(t *testing.T) {
	srv, c := sandboxClient(t)
	_ = srv.FailNext(sandbox.FailRule{PathID: "P2", Count: 1, Status: http.StatusConflict})
	_, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
	var apiErr *flexhrm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 409 || apiErr.Code != "Conflict" || apiErr.Message == "" || apiErr.Op != "get employee" {
		t.Fatalf("err = %#v", err)
	}
	for _, sentinel := range []error{flexhrm.ErrNotFound, flexhrm.ErrValidation, flexhrm.ErrUnavailable, flexhrm.ErrOverlappingDates} {
		if errors.Is(err, sentinel) {
			t.Errorf("a plain 409 is %v", sentinel)
		}
	}
}

func TestCredentialsRevokedMidRunFailAtOnceAndRecover(t *testing.T) {
	srv, c := sandboxClient(t)
	if _, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna); err != nil {
		t.Fatal(err)
	}
	srv.SetCredentialsRevoked(true)
	srv.ClearRequests()
	_, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna)
	if !errors.Is(err, flexhrm.ErrUnauthorized) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("%d requests after a 401, want 1 (no retry storm)", n)
	}
	srv.SetCredentialsRevoked(false)
	if _, err := c.GetEmployee(t.Context(), sandbox.EmployeeAnna); err != nil {
		t.Fatalf("after restoring: %v", err)
	}
}

func TestLocalRefusalsMakeNoRequest(t *testing.T) {
	srv, c := sandboxClient(t)
	ctx := t.Context()
	to := flexhrm.NewDate(2020, 1, 1)
	calls := map[string]func() error{
		"empty_employment_number": func() error { _, err := c.FindEmployees(ctx, "", ""); return err },
		"empty_employee_id":       func() error { _, err := c.GetEmployee(ctx, ""); return err },
		"period_without_instance": func() error {
			_, err := c.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{CompanyID: "c", EmployeeID: "e", FromDate: to})
			return err
		},
		"period_ending_before_it_starts": func() error {
			_, err := c.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{CompanyID: "c", EmployeeID: "e", InstanceID: "i", FromDate: flexhrm.NewDate(2021, 1, 1), ToDate: &to})
			return err
		},
		"period_update_without_id": func() error {
			_, err := c.UpdateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{CompanyID: "c", EmployeeID: "e", InstanceID: "i", FromDate: to})
			return err
		},
		"upload_without_title": func() error {
			_, err := c.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: "e", CategoryID: "c", PDF: strings.NewReader("x"), Size: 1})
			return err
		},
		"titles_without_company": func() error { _, err := c.ListEmploymentTitles(ctx, "", false); return err },
		"upload_with_size_zero": func() error {
			_, err := c.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: "e", CategoryID: "c", Title: "t", PDF: strings.NewReader("x")})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, flexhrm.ErrValidation) {
			t.Errorf("%s: err = %v, want ErrValidation", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests were made", n)
	}
}

func TestManagerLookupTreatsAMissingManagerAsAWarning(t *testing.T) {
	_, c := sandboxClient(t)
	ctx := t.Context()
	for _, tc := range []struct {
		number string
		want   error
		email  string
	}{
		{sandbox.EmploymentNumberAnna, nil, sandbox.ManagerEmail},
		{sandbox.EmploymentNumberNoMgr, flexhrm.ErrNoManager, ""},
		{sandbox.EmploymentNumberNoEmail, nil, ""},
	} {
		e, err := c.FindEmployee(ctx, tc.number, "")
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.Manager(ctx, e)
		if !errors.Is(err, tc.want) || (err == nil && m.EmailWork != tc.email) {
			t.Errorf("%s: manager %q, %v; want %q, %v", tc.number, m.EmailWork, err, tc.email, tc.want)
		}
	}
	_, err := c.Manager(ctx, flexhrm.Employee{ID: "e", ImmediateManagerEmployeeID: "00000000-0000-4000-8000-000000000000"})
	if !errors.Is(err, flexhrm.ErrNotFound) {
		t.Errorf("dangling manager id = %v, want ErrNotFound", err)
	}
}
