// Package adapters connects employee-directory's app layer to Flex HRM
// through libs/flexhrm. It is the one place where the vendor's objects become
// domain values and the vendor's errors become domain errors.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"

	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// FlexHRM implements the app's repositories and sources with the Flex HRM
// client.
type FlexHRM struct {
	client *flexhrm.Client
}

// Compile-time proof that FlexHRM is what the app needs.
var (
	_ app.EmployeeRepository = (*FlexHRM)(nil)
	_ app.PeriodRepository   = (*FlexHRM)(nil)
	_ app.TitleSource        = (*FlexHRM)(nil)
	_ app.CompanySource      = (*FlexHRM)(nil)
)

// NewFlexHRM wraps client; it refuses nil.
func NewFlexHRM(client *flexhrm.Client) (*FlexHRM, error) {
	if client == nil {
		return nil, errors.New("adapters: NewFlexHRM needs a Flex HRM client")
	}
	return &FlexHRM{client: client}, nil
}

// ValidateNationalID is the flexhrm library's personnummer rule, the same
// one the Flex HRM model applies, as an app.NationalIDValidator.
func ValidateNationalID(nationalID string) error { return flexhrm.ValidatePersonnummer(nationalID) }

// FindEmployee implements app.EmployeeRepository.
func (f *FlexHRM) FindEmployee(ctx context.Context, employeeNumber, companyID string) (domain.Person, error) {
	e, err := f.client.FindEmployee(ctx, employeeNumber, companyID)
	if err != nil {
		return domain.Person{}, translate(err, domain.ErrEmployeeNotFound)
	}
	return toPerson(e), nil
}

// GetEmployee implements app.EmployeeRepository.
func (f *FlexHRM) GetEmployee(ctx context.Context, id string) (domain.Person, error) {
	e, err := f.client.GetEmployee(ctx, id)
	if err != nil {
		return domain.Person{}, translate(err, domain.ErrEmployeeNotFound)
	}
	return toPerson(e), nil
}

// ListEmployees implements app.EmployeeRepository.
func (f *FlexHRM) ListEmployees(ctx context.Context, companyID string, pageIndex, pageSize int) (app.PersonPage, error) {
	page, err := f.client.ListEmployees(ctx, companyID, pageIndex, pageSize)
	if err != nil {
		return app.PersonPage{}, translate(err, errCompanyNotFound)
	}
	out := app.PersonPage{TotalCount: page.TotalCount, Items: make([]domain.Person, len(page.Items))}
	for i, e := range page.Items {
		out.Items[i] = toPerson(e)
	}
	return out, nil
}

// UpdateEmployee implements app.EmployeeRepository: GET, change, PUT of the
// very object read, so properties the domain does not model (private email,
// phone1..3, whatever a real Flex HRM adds) are sent back unchanged.
func (f *FlexHRM) UpdateEmployee(ctx context.Context, id string, update func(domain.Person) (domain.Person, bool, error)) (domain.Person, error) {
	current, err := f.client.GetEmployee(ctx, id)
	if err != nil {
		return domain.Person{}, translate(err, domain.ErrEmployeeNotFound)
	}
	read := toPerson(current)
	next, write, err := update(read)
	if err != nil || !write {
		return read, err
	}
	changed := current
	changed.FirstName = next.FirstName
	changed.LastName = next.LastName
	changed.NationalIdentificationNumber = next.NationalID
	changed.AddressRow1 = next.AddressRow1
	changed.AddressRow2 = next.AddressRow2
	changed.PostalCode = next.PostalCode
	changed.City = next.City
	changed.Country = next.Country
	changed.EmailWork = next.EmailWork
	changed.Phone4 = next.Phone4
	stored, err := f.client.UpdateEmployee(ctx, changed)
	if err != nil {
		return domain.Person{}, translate(err, domain.ErrEmployeeNotFound)
	}
	return toPerson(stored), nil
}

// ListEmploymentPeriods implements app.PeriodRepository.
func (f *FlexHRM) ListEmploymentPeriods(ctx context.Context, employeeID string) ([]domain.Period, error) {
	periods, err := f.client.ListEmploymentPeriods(ctx, employeeID)
	if err != nil {
		return nil, translate(err, domain.ErrEmployeeNotFound)
	}
	out := make([]domain.Period, len(periods))
	for i, p := range periods {
		out[i] = toPeriod(p)
	}
	return out, nil
}

// CreateEmploymentPeriod implements app.PeriodRepository.
func (f *FlexHRM) CreateEmploymentPeriod(ctx context.Context, p domain.Period) (domain.Period, error) {
	created, err := f.client.CreateEmploymentPeriod(ctx, fromPeriod(flexhrm.EmploymentPeriod{}, p))
	if err != nil {
		return domain.Period{}, translate(err, domain.ErrEmployeeNotFound)
	}
	return toPeriod(created), nil
}

// UpdateEmploymentPeriod implements app.PeriodRepository. It re-reads the
// employee's periods and changes the one read, so that properties the domain
// does not model are sent back as Flex HRM gave them (PUT replaces).
func (f *FlexHRM) UpdateEmploymentPeriod(ctx context.Context, p domain.Period) (domain.Period, error) {
	periods, err := f.client.ListEmploymentPeriods(ctx, p.EmployeeID)
	if err != nil {
		return domain.Period{}, translate(err, domain.ErrEmployeeNotFound)
	}
	base := flexhrm.EmploymentPeriod{}
	for _, q := range periods {
		if q.ID == p.ID {
			base = q
			break
		}
	}
	if base.ID == "" {
		return domain.Period{}, fmt.Errorf("employment period %s: %w", p.ID, errPeriodNotFound)
	}
	updated, err := f.client.UpdateEmploymentPeriod(ctx, fromPeriod(base, p))
	if err != nil {
		return domain.Period{}, translate(err, errPeriodNotFound)
	}
	return toPeriod(updated), nil
}

// ListEmploymentTitles implements app.TitleSource: every title, active or
// not, because a period may point at a retired one.
func (f *FlexHRM) ListEmploymentTitles(ctx context.Context, companyID string) ([]domain.Title, error) {
	titles, err := f.client.ListEmploymentTitles(ctx, companyID, false)
	if err != nil {
		return nil, translate(err, errCompanyNotFound)
	}
	out := make([]domain.Title, len(titles))
	for i, t := range titles {
		out[i] = domain.Title{ID: t.ID, CompanyID: t.CompanyID, Code: t.Code, Name: t.Name, Active: t.Active}
	}
	return out, nil
}

// ListCompanies implements app.CompanySource.
func (f *FlexHRM) ListCompanies(ctx context.Context) ([]domain.Company, error) {
	companies, err := f.client.ListCompanies(ctx)
	if err != nil {
		return nil, translate(err, errCompanyNotFound)
	}
	out := make([]domain.Company, len(companies))
	for i, c := range companies {
		out[i] = domain.Company{ID: c.ID, CompanyNumber: c.CompanyNumber, Name: c.Name, OrganizationNumber: c.OrganizationNumber}
	}
	return out, nil
}

func toPerson(e flexhrm.Employee) domain.Person {
	p := domain.Person{
		ID: e.ID, CompanyID: e.CompanyID, InstanceID: e.InstanceID, FullName: e.Name,
		ManagerID: e.ImmediateManagerEmployeeID,
		FirstName: e.FirstName, LastName: e.LastName, NationalID: e.NationalIdentificationNumber,
		AddressRow1: e.AddressRow1, AddressRow2: e.AddressRow2, PostalCode: e.PostalCode,
		City: e.City, Country: e.Country, EmailWork: e.EmailWork, Phone4: e.Phone4,
	}
	for _, emp := range e.Employment {
		if emp.EmploymentNumber != "" {
			p.EmploymentNumbers = append(p.EmploymentNumbers, emp.EmploymentNumber)
		}
	}
	return p
}

func toPeriod(p flexhrm.EmploymentPeriod) domain.Period {
	out := domain.Period{
		ID: p.ID, CompanyID: p.CompanyID, EmployeeID: p.EmployeeID, InstanceID: p.InstanceID,
		From:    toDate(p.FromDate),
		TitleID: p.TitleID, EmploymentTypeID: p.EmploymentTypeID,
	}
	if p.ToDate != nil {
		out.To = toDate(*p.ToDate)
	}
	return out
}

func toDate(d flexhrm.Date) domain.Date {
	if d.IsZero() {
		return domain.Date{}
	}
	return domain.NewDate(d.Year, d.Month, d.Day)
}

func fromDate(d domain.Date) flexhrm.Date {
	if d.IsZero() {
		return flexhrm.Date{}
	}
	return flexhrm.DateOf(d.Time())
}

// fromPeriod writes the domain period's values onto base, the object as read
// (or a new one).
func fromPeriod(base flexhrm.EmploymentPeriod, p domain.Period) flexhrm.EmploymentPeriod {
	base.ID = p.ID
	base.CompanyID = p.CompanyID
	base.EmployeeID = p.EmployeeID
	base.InstanceID = p.InstanceID
	base.FromDate = fromDate(p.From)
	base.ToDate = nil
	if !p.To.IsZero() {
		to := fromDate(p.To)
		base.ToDate = &to
	}
	base.TitleID = p.TitleID
	base.EmploymentTypeID = p.EmploymentTypeID
	return base
}

// Not-found meanings besides a missing employee; the gRPC port maps them
// like ErrEmployeeNotFound.
var (
	errCompanyNotFound = fmt.Errorf("company: %w", domain.ErrNotFound)
	errPeriodNotFound  = fmt.Errorf("employment period: %w", domain.ErrNotFound)
)

// translate turns a flexhrm error into the domain error it means. notFound is
// what a 404 means for this call. The flexhrm library's own messages are
// already scrubbed of personal data; they are kept as the cause for logs.
func translate(err error, notFound error) error {
	var ambiguous *flexhrm.AmbiguousEmployeeError
	var api *flexhrm.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &ambiguous):
		amb := &domain.AmbiguousEmployeeError{EmployeeNumber: ambiguous.EmploymentNumber}
		for _, c := range ambiguous.Companies {
			amb.Companies = append(amb.Companies, companyName(c))
			amb.CompanyIDs = append(amb.CompanyIDs, c.ID)
		}
		return amb
	case errors.Is(err, flexhrm.ErrUnknownCustomerNumber):
		return &upstreamError{kind: domain.ErrCredentialsRejected, detail: "Flex HRM does not know the customer number", cause: err}
	case errors.Is(err, flexhrm.ErrUnauthorized):
		return &upstreamError{kind: domain.ErrCredentialsRejected, cause: err}
	case errors.Is(err, flexhrm.ErrForbidden):
		return &upstreamError{kind: domain.ErrCompanyForbidden, cause: err}
	case errors.Is(err, flexhrm.ErrRateLimited):
		return &upstreamError{kind: domain.ErrRateLimited, cause: err, detail: err.Error()}
	case errors.Is(err, flexhrm.ErrUnavailable):
		return &upstreamError{kind: domain.ErrUpstreamUnavailable, cause: err, detail: err.Error()}
	case errors.Is(err, flexhrm.ErrOverlappingDates):
		return &upstreamError{kind: domain.ErrOverlappingDates, cause: err}
	case errors.Is(err, flexhrm.ErrNotFound):
		return &upstreamError{kind: notFound, cause: err}
	case errors.Is(err, flexhrm.ErrValidation) && errors.As(err, &api):
		return &upstreamRejected{UpstreamRejectedError: domain.UpstreamRejectedError{Code: api.Code, Fields: api.Fields}, cause: err}
	}
	return fmt.Errorf("Flex HRM call failed: %w", err)
}

// companyName names a company of an ambiguity so a caller can pick it: the
// name and the id to pass as company_id.
func companyName(c flexhrm.CompanyRef) string {
	if c.Name == "" {
		return "company_id " + c.ID
	}
	return fmt.Sprintf("%s (company_id %s)", strings.TrimSpace(c.Name), c.ID)
}

// upstreamError is a domain error kind with the flexhrm error behind it.
// Its message is the kind's, plus a scrubbed detail when that helps an SRE.
type upstreamError struct {
	kind   error
	detail string
	cause  error
}

func (e *upstreamError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.detail
}

func (e *upstreamError) Unwrap() []error { return []error{e.kind, e.cause} }

// RetryAfter is how long Flex HRM asked callers to wait (its last
// Retry-After), zero when it did not say; the port passes it on as gRPC
// RetryInfo so callers wait in line instead of guessing.
func (e *upstreamError) RetryAfter() time.Duration {
	var apiErr *flexhrm.APIError
	if errors.As(e.cause, &apiErr) {
		return apiErr.RetryAfter
	}
	return 0
}

// upstreamRejected is a domain.UpstreamRejectedError that keeps its cause.
type upstreamRejected struct {
	domain.UpstreamRejectedError
	cause error
}

func (e *upstreamRejected) Unwrap() []error {
	return []error{&e.UpstreamRejectedError, e.cause}
}
