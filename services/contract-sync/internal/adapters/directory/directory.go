// Package directory adapts employee-directory's gRPC API to the
// app.Directory port: it presents contract-sync's bearer token and
// translates status codes once into app and domain errors.
package directory

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	employeedirectoryv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Client implements app.Directory.
type Client struct {
	api   employeedirectoryv1.EmployeeDirectoryServiceClient
	token string
}

// New wraps a connection; token is the bearer token contract-sync presents.
func New(conn grpc.ClientConnInterface, token string) (*Client, error) {
	if conn == nil || token == "" {
		return nil, errors.New("directory.New: nil connection or empty token")
	}
	return &Client{api: employeedirectoryv1.NewEmployeeDirectoryServiceClient(conn), token: token}, nil
}

var _ app.Directory = (*Client)(nil)

func (c *Client) auth(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
}

// translate maps a gRPC status into domain errors. employee-directory's
// messages are free of personal data by its own rules, so they may be quoted.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	st, _ := status.FromError(err)
	msg := st.Message()
	ue := &domain.UpstreamError{System: domain.SystemEmployeeDirectory, Op: op, Err: errors.New(st.Code().String())}
	switch {
	case strings.Contains(msg, "rejected flexflow's credentials"):
		ue.System, ue.Kind = domain.SystemFlexHRM, domain.KindCredentials
		ue.Reason = domain.CredentialsReason(domain.SystemFlexHRM)
		return ue
	case strings.Contains(msg, "does not let flexflow's API user"):
		ue.System, ue.Kind = domain.SystemFlexHRM, domain.KindCredentials
		ue.Reason = "Flex HRM does not let flexflow's API user access the employee's company"
		return ue
	}
	switch st.Code() {
	case codes.NotFound:
		return app.ErrEmployeeNotFound
	case codes.FailedPrecondition:
		if strings.Contains(msg, "several") {
			return &app.AmbiguousEmployeeError{Companies: companiesFrom(msg)}
		}
		ue.Kind, ue.Reason = domain.KindInvalid, "employee-directory refused "+op+": "+msg
	case codes.InvalidArgument, codes.OutOfRange:
		ue.Kind, ue.Reason = domain.KindInvalid, "employee-directory refused "+op+": "+msg
	case codes.Unauthenticated, codes.PermissionDenied:
		ue.Kind, ue.Reason = domain.KindCredentials, domain.CredentialsReason(domain.SystemEmployeeDirectory)
	case codes.Unimplemented:
		ue.Kind, ue.Reason = domain.KindInvalid, "employee-directory does not offer "+op
	case codes.ResourceExhausted:
		ue.Kind, ue.RateLimited = domain.KindTransient, true
		ue.Reason = "Flex HRM is rate limiting flexflow (" + op + ")"
		// employee-directory may pass Flex HRM's Retry-After on as RetryInfo.
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
				ue.RetryAfter = ri.GetRetryDelay().AsDuration()
			}
		}
	default:
		// Unavailable, DeadlineExceeded, Aborted, Internal, Unknown: worth
		// retrying.
		ue.Kind = domain.KindTransient
		ue.Reason = "employee-directory or Flex HRM unavailable (" + op + ")"
		if msg != "" && len(msg) < 200 {
			ue.Reason += ": " + msg
		}
	}
	return ue
}

// companiesFrom pulls "A, B" out of "... companies (A, B): ...".
func companiesFrom(msg string) []string {
	i := strings.Index(msg, "companies (")
	if i < 0 {
		return nil
	}
	rest := msg[i+len("companies ("):]
	depth, end := 1, -1
	for j, r := range rest {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			end = j
			break
		}
	}
	if end < 0 {
		return nil
	}
	return strings.Split(rest[:end], ", ")
}

// GetEmployee implements app.Directory.
func (c *Client) GetEmployee(ctx context.Context, employeeNumber, companyID string) (domain.Employee, error) {
	resp, err := c.api.GetEmployee(c.auth(ctx), &employeedirectoryv1.GetEmployeeRequest{EmployeeNumber: employeeNumber, CompanyId: companyID})
	if err != nil {
		return domain.Employee{}, translate("find employee", err)
	}
	return FromProto(resp.GetEmployee()), nil
}

// FromProto converts the wire employee.
func FromProto(e *employeedirectoryv1.Employee) domain.Employee {
	return domain.Employee{
		EmployeeNumber: e.GetEmployeeNumber(), FirstName: e.GetFirstName(), Surname: e.GetSurname(),
		NationalID: e.GetNationalId(), COAddress: e.GetCoAddress(), StreetAddress: e.GetStreetAddress(),
		PostalCode: e.GetPostalCode(), City: e.GetCity(), Country: e.GetCountry(), EmailWork: e.GetEmailWork(),
		MobilePhonePrivate: e.GetMobilePhonePrivate(), ImmediateManagerName: e.GetImmediateManagerName(),
		ImmediateManagerEmail: e.GetImmediateManagerEmail(), Position: e.GetPosition(),
		EmploymentStart: e.GetEmploymentStart(), EmploymentEnd: e.GetEmploymentEnd(), FullName: e.GetFullName(),
		FlexEmployeeID: e.GetFlex().GetEmployeeId(), FlexCompanyID: e.GetFlex().GetCompanyId(),
		HasManager: e.GetFlex().GetManagerEmployeeId() != "" || e.GetImmediateManagerName() != "",
	}
}

// ToProto converts a domain employee (the writable fields matter).
func ToProto(e domain.Employee) *employeedirectoryv1.Employee {
	return &employeedirectoryv1.Employee{
		EmployeeNumber: e.EmployeeNumber, FirstName: e.FirstName, Surname: e.Surname, NationalId: e.NationalID,
		CoAddress: e.COAddress, StreetAddress: e.StreetAddress, PostalCode: e.PostalCode, City: e.City,
		Country: e.Country, EmailWork: e.EmailWork, MobilePhonePrivate: e.MobilePhonePrivate,
	}
}

// UpdateEmployee implements app.Directory.
func (c *Client) UpdateEmployee(ctx context.Context, employeeNumber, companyID string, mask []string, values domain.Employee) ([]string, error) {
	resp, err := c.api.UpdateEmployee(c.auth(ctx), &employeedirectoryv1.UpdateEmployeeRequest{
		EmployeeNumber: employeeNumber, CompanyId: companyID, Employee: ToProto(values),
		UpdateMask: &fieldmaskpb.FieldMask{Paths: mask},
	})
	if err != nil {
		return nil, translate("update employee", err)
	}
	return resp.GetChangedFields(), nil
}

// UpsertEmploymentPeriod implements app.Directory.
func (c *Client) UpsertEmploymentPeriod(ctx context.Context, employeeNumber, companyID string, plan domain.EmploymentPeriodPlan) (app.PeriodResult, error) {
	resp, err := c.api.UpsertEmploymentPeriod(c.auth(ctx), &employeedirectoryv1.UpsertEmploymentPeriodRequest{
		EmployeeNumber: employeeNumber, CompanyId: companyID, FromDate: plan.FromDate, ToDate: plan.ToDate, Position: plan.Position,
	})
	if err != nil {
		return app.PeriodResult{}, translate("write employment period", err)
	}
	res := app.PeriodResult{Warnings: resp.GetWarnings()}
	switch resp.GetOutcome() {
	case employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_CREATED:
		res.Outcome = app.PeriodCreated
	case employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UPDATED:
		res.Outcome = app.PeriodUpdated
	case employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UNCHANGED:
		res.Outcome = app.PeriodUnchanged
	case employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_OVERLAP_SKIPPED:
		res.Outcome = app.PeriodOverlapSkipped
	}
	return res, nil
}
