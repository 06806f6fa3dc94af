// Package ports exposes employee-directory over gRPC: it turns requests into
// app queries and commands, app results into protobuf, and domain errors
// into gRPC status codes, in one place.
package ports

import (
	"context"
	"errors"
	"fmt"
	"google.golang.org/protobuf/types/known/durationpb"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// Directory is what the gRPC port needs from the app layer.
type Directory interface {
	GetEmployee(ctx context.Context, q app.GetEmployeeQuery) (domain.Employee, error)
	ListEmployees(ctx context.Context, q app.ListEmployeesQuery) (app.EmployeePage, error)
	UpdateEmployee(ctx context.Context, cmd app.UpdateEmployeeCommand) (app.UpdateEmployeeResult, error)
	UpsertEmploymentPeriod(ctx context.Context, cmd app.UpsertPeriodCommand) (app.UpsertPeriodResult, error)
}

// GRPCServer implements flexflow.employeedirectory.v1.EmployeeDirectoryService.
type GRPCServer struct {
	edv1.UnimplementedEmployeeDirectoryServiceServer
	dir    Directory
	logger *slog.Logger
}

// NewGRPCServer refuses nil dependencies.
func NewGRPCServer(dir Directory, logger *slog.Logger) (*GRPCServer, error) {
	if dir == nil || logger == nil {
		return nil, errors.New("ports: NewGRPCServer needs a directory and a logger")
	}
	return &GRPCServer{dir: dir, logger: logger}, nil
}

// GetEmployee implements the RPC.
func (s *GRPCServer) GetEmployee(ctx context.Context, req *edv1.GetEmployeeRequest) (*edv1.GetEmployeeResponse, error) {
	e, err := s.dir.GetEmployee(ctx, app.GetEmployeeQuery{EmployeeNumber: req.GetEmployeeNumber(), CompanyID: req.GetCompanyId()})
	if err != nil {
		return nil, s.status(ctx, "GetEmployee", err)
	}
	return &edv1.GetEmployeeResponse{Employee: toProto(e)}, nil
}

// ListEmployees implements the RPC.
func (s *GRPCServer) ListEmployees(ctx context.Context, req *edv1.ListEmployeesRequest) (*edv1.ListEmployeesResponse, error) {
	page, err := s.dir.ListEmployees(ctx, app.ListEmployeesQuery{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), CompanyID: req.GetCompanyId(),
	})
	if err != nil {
		return nil, s.status(ctx, "ListEmployees", err)
	}
	resp := &edv1.ListEmployeesResponse{NextPageToken: page.NextPageToken, TotalSize: int32(max(page.TotalSize, 0))}
	for _, e := range page.Employees {
		resp.Employees = append(resp.Employees, &edv1.EmployeeSummary{
			EmployeeNumber: e.EmployeeNumber, FirstName: e.FirstName, Surname: e.Surname,
			Flex: &edv1.FlexIds{EmployeeId: e.Flex.EmployeeID, CompanyId: e.Flex.CompanyID},
		})
	}
	return resp, nil
}

// UpdateEmployee implements the RPC.
func (s *GRPCServer) UpdateEmployee(ctx context.Context, req *edv1.UpdateEmployeeRequest) (*edv1.UpdateEmployeeResponse, error) {
	res, err := s.dir.UpdateEmployee(ctx, app.UpdateEmployeeCommand{
		EmployeeNumber: req.GetEmployeeNumber(),
		CompanyID:      req.GetCompanyId(),
		Values:         fromProto(req.GetEmployee()),
		Mask:           req.GetUpdateMask().GetPaths(),
	})
	if err != nil {
		return nil, s.status(ctx, "UpdateEmployee", err)
	}
	resp := &edv1.UpdateEmployeeResponse{Employee: toProto(res.Employee)}
	for _, f := range res.Changed {
		resp.ChangedFields = append(resp.ChangedFields, string(f))
	}
	return resp, nil
}

// UpsertEmploymentPeriod implements the RPC.
func (s *GRPCServer) UpsertEmploymentPeriod(ctx context.Context, req *edv1.UpsertEmploymentPeriodRequest) (*edv1.UpsertEmploymentPeriodResponse, error) {
	res, err := s.dir.UpsertEmploymentPeriod(ctx, app.UpsertPeriodCommand{
		EmployeeNumber: req.GetEmployeeNumber(), CompanyID: req.GetCompanyId(),
		FromDate: req.GetFromDate(), ToDate: req.GetToDate(), Position: req.GetPosition(),
	})
	if err != nil {
		return nil, s.status(ctx, "UpsertEmploymentPeriod", err)
	}
	return &edv1.UpsertEmploymentPeriodResponse{
		Outcome:            outcomeToProto(res.Outcome),
		EmploymentPeriodId: res.PeriodID,
		TitleId:            res.TitleID,
		Warnings:           res.Warnings,
	}, nil
}

func outcomeToProto(o app.PeriodOutcome) edv1.EmploymentPeriodOutcome {
	switch o {
	case app.PeriodCreated:
		return edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_CREATED
	case app.PeriodUpdated:
		return edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UPDATED
	case app.PeriodOverlapSkipped:
		return edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_OVERLAP_SKIPPED
	case app.PeriodUnchanged:
		return edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UNCHANGED
	}
	return edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UNSPECIFIED
}

func toProto(e domain.Employee) *edv1.Employee {
	return &edv1.Employee{
		EmployeeNumber:        e.EmployeeNumber,
		FirstName:             e.FirstName,
		Surname:               e.Surname,
		NationalId:            e.NationalID,
		CoAddress:             e.COAddress,
		StreetAddress:         e.StreetAddress,
		PostalCode:            e.PostalCode,
		City:                  e.City,
		Country:               e.Country,
		EmailWork:             e.EmailWork,
		MobilePhonePrivate:    e.MobilePhonePrivate,
		ImmediateManagerName:  e.ManagerName,
		ImmediateManagerEmail: e.ManagerEmail,
		Position:              e.Position,
		EmploymentStart:       e.EmploymentStart.String(),
		EmploymentEnd:         e.EmploymentEnd.String(),
		FullName:              e.FullName,
		Flex: &edv1.FlexIds{
			EmployeeId:         e.Flex.EmployeeID,
			CompanyId:          e.Flex.CompanyID,
			ManagerEmployeeId:  e.Flex.ManagerEmployeeID,
			EmploymentPeriodId: e.Flex.EmploymentPeriodID,
			TitleId:            e.Flex.TitleID,
		},
	}
}

// fromProto reads the writable values of an update; read-only ones are
// refused by the mask, not here.
func fromProto(e *edv1.Employee) domain.Employee {
	return domain.Employee{
		FirstName:          e.GetFirstName(),
		Surname:            e.GetSurname(),
		NationalID:         e.GetNationalId(),
		COAddress:          e.GetCoAddress(),
		StreetAddress:      e.GetStreetAddress(),
		PostalCode:         e.GetPostalCode(),
		City:               e.GetCity(),
		Country:            e.GetCountry(),
		EmailWork:          e.GetEmailWork(),
		MobilePhonePrivate: e.GetMobilePhonePrivate(),
	}
}

// flexFieldName maps Flex HRM property names in a validation refusal back
// to the Employee fields a caller knows.
func flexFieldName(flex string) string {
	switch strings.ToLower(flex) {
	case "firstname":
		return "first_name"
	case "lastname":
		return "surname"
	case "nationalidentificationnumber":
		return "national_id"
	case "addressrow1":
		return "co_address"
	case "addressrow2":
		return "street_address"
	case "postalcode":
		return "postal_code"
	case "city":
		return "city"
	case "country":
		return "country"
	case "emailwork":
		return "email_work"
	case "phone4":
		return "mobile_phone_private"
	case "fromdate":
		return "from_date"
	case "todate":
		return "to_date"
	}
	return flex
}

// ErrorDomain is the google.rpc.ErrorInfo domain of every error this service
// returns; with the Reason* values it lets callers branch on a stable code
// instead of matching message text.
const ErrorDomain = "employeedirectory.flexflow"

// Reasons in google.rpc.ErrorInfo.
const (
	ReasonInvalidField               = "INVALID_FIELD"
	ReasonFlexHRMRejectedValues      = "FLEXHRM_REJECTED_VALUES"
	ReasonAmbiguousEmployeeNumber    = "AMBIGUOUS_EMPLOYEE_NUMBER" // metadata company_ids: comma-separated
	ReasonEmployeeNotFound           = "EMPLOYEE_NOT_FOUND"
	ReasonNotFound                   = "NOT_FOUND"
	ReasonFlexHRMCredentialsRejected = "FLEXHRM_CREDENTIALS_REJECTED"
	ReasonFlexHRMCompanyForbidden    = "FLEXHRM_COMPANY_FORBIDDEN"
	ReasonFlexHRMRateLimited         = "FLEXHRM_RATE_LIMITED"
	ReasonFlexHRMUnavailable         = "FLEXHRM_UNAVAILABLE"
	ReasonDeadlineExceeded           = "DEADLINE_EXCEEDED"
	ReasonCancelled                  = "CANCELLED"
	ReasonInternal                   = "INTERNAL"
)

// status maps an app error to its gRPC status, once for every RPC, and logs
// it at a level that matches whose problem it is. Messages are the domain
// errors' own, which carry no personal data.
func (s *GRPCServer) status(ctx context.Context, rpc string, err error) error {
	var (
		invalid   *domain.InvalidFieldError
		ambiguous *domain.AmbiguousEmployeeError
		rejected  *domain.UpstreamRejectedError
	)
	code, msg := codes.Internal, "internal error (see employee-directory's log)"
	reason, metadata := ReasonInternal, map[string]string(nil)
	var details []*errdetails.BadRequest_FieldViolation
	switch {
	case errors.As(err, &invalid):
		code, msg, reason = codes.InvalidArgument, invalid.Error(), ReasonInvalidField
		details = append(details, &errdetails.BadRequest_FieldViolation{Field: invalid.Field, Description: invalid.Reason})
	case errors.As(err, &rejected):
		reason = ReasonFlexHRMRejectedValues
		fields := make([]string, len(rejected.Fields))
		for i, f := range rejected.Fields {
			fields[i] = flexFieldName(f)
			details = append(details, &errdetails.BadRequest_FieldViolation{Field: fields[i], Description: "refused by Flex HRM"})
		}
		code, msg = codes.InvalidArgument, (&domain.UpstreamRejectedError{Code: rejected.Code, Fields: fields}).Error()
	case errors.As(err, &ambiguous):
		code, msg, reason = codes.FailedPrecondition, ambiguous.Error(), ReasonAmbiguousEmployeeNumber
		metadata = map[string]string{"company_ids": strings.Join(ambiguous.CompanyIDs, ",")}
	case errors.Is(err, domain.ErrEmployeeNotFound):
		code, msg, reason = codes.NotFound, err.Error(), ReasonEmployeeNotFound
	case errors.Is(err, domain.ErrNotFound):
		code, msg, reason = codes.NotFound, err.Error(), ReasonNotFound
	case errors.Is(err, domain.ErrCredentialsRejected):
		code, msg, reason = codes.Unavailable, leaf(err, domain.ErrCredentialsRejected), ReasonFlexHRMCredentialsRejected
	case errors.Is(err, domain.ErrCompanyForbidden):
		code, msg, reason = codes.FailedPrecondition, domain.ErrCompanyForbidden.Error(), ReasonFlexHRMCompanyForbidden
	case errors.Is(err, domain.ErrRateLimited):
		code, msg, reason = codes.ResourceExhausted, leaf(err, domain.ErrRateLimited), ReasonFlexHRMRateLimited
	case errors.Is(err, domain.ErrUpstreamUnavailable):
		code, msg, reason = codes.Unavailable, leaf(err, domain.ErrUpstreamUnavailable), ReasonFlexHRMUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		code, msg, reason = codes.DeadlineExceeded, "deadline exceeded while calling Flex HRM", ReasonDeadlineExceeded
	case errors.Is(err, context.Canceled):
		code, msg, reason = codes.Canceled, "request cancelled", ReasonCancelled
	}

	// libs/grpcx logs every call with the message the caller sees; here the
	// whole cause chain is logged when it says more than that message, which
	// is when Flex HRM or flexflow itself failed.
	switch code {
	case codes.Internal, codes.Unknown:
		s.logger.ErrorContext(ctx, "request failed", "rpc", rpc, "code", code.String(), "error", err)
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded:
		s.logger.WarnContext(ctx, "request failed upstream", "rpc", rpc, "code", code.String(), "error", err)
	}

	st := status.New(code, msg)
	extra := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: metadata}}
	if len(details) > 0 {
		extra = append(extra, &errdetails.BadRequest{FieldViolations: details})
	}
	var waiter interface{ RetryAfter() time.Duration }
	if (code == codes.ResourceExhausted || code == codes.Unavailable) && errors.As(err, &waiter) && waiter.RetryAfter() > 0 {
		extra = append(extra, &errdetails.RetryInfo{RetryDelay: durationpb.New(waiter.RetryAfter())})
	}
	if withDetails, derr := st.WithDetails(extra...); derr == nil {
		st = withDetails
	}
	return st.Err()
}

// leaf is the message of the first error in err's chain that wraps kind and
// is not a plain context wrapper of the app: the domain error with its
// adapter detail ("… (FLEXHRM_CREDENTIALS): Flex HRM does not know the
// customer number"), without "find employee number …:" prefixes.
func leaf(err, kind error) string {
	msg := err.Error()
	if i := strings.Index(msg, kind.Error()); i >= 0 {
		return msg[i:]
	}
	return fmt.Sprint(kind)
}
