package ports_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
	"github.com/flexflow/flexflow/services/employee-directory/internal/ports"
)

// failingDirectory answers every call with err.
type failingDirectory struct{ err error }

func (f failingDirectory) GetEmployee(context.Context, app.GetEmployeeQuery) (domain.Employee, error) {
	return domain.Employee{}, f.err
}
func (f failingDirectory) ListEmployees(context.Context, app.ListEmployeesQuery) (app.EmployeePage, error) {
	return app.EmployeePage{}, f.err
}
func (f failingDirectory) UpdateEmployee(context.Context, app.UpdateEmployeeCommand) (app.UpdateEmployeeResult, error) {
	return app.UpdateEmployeeResult{}, f.err
}
func (f failingDirectory) UpsertEmploymentPeriod(context.Context, app.UpsertPeriodCommand) (app.UpsertPeriodResult, error) {
	return app.UpsertPeriodResult{}, f.err
}

// credentialsLike mimics the adapter: a domain kind with a scrubbed detail.
type withDetail struct {
	kind   error
	detail string
}

func (e withDetail) Error() string { return e.kind.Error() + ": " + e.detail }
func (e withDetail) Unwrap() error { return e.kind }

func TestErrorsMapToOneCodeEach(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCode  codes.Code
		wantMsg   string
		wantField string
		reason    string
	}{
		{name: "a missing employee is NotFound",
			err:      fmt.Errorf("find employee number 1001: %w", domain.ErrEmployeeNotFound),
			wantCode: codes.NotFound, wantMsg: "employee not found in Flex HRM", reason: "EMPLOYEE_NOT_FOUND"},
		{name: "an ambiguous number is FailedPrecondition naming the companies",
			err:      fmt.Errorf("find: %w", &domain.AmbiguousEmployeeError{EmployeeNumber: "1001", Companies: []string{"Acme AB (company_id c-1)", "Beta AB (company_id c-2)"}, CompanyIDs: []string{"c-1", "c-2"}}),
			wantCode: codes.FailedPrecondition, wantMsg: "Acme AB (company_id c-1), Beta AB (company_id c-2)", reason: "AMBIGUOUS_EMPLOYEE_NUMBER"},
		{name: "rejected credentials are Unavailable with a message for an SRE",
			err:      fmt.Errorf("find employee number 1001: %w", domain.ErrCredentialsRejected),
			wantCode: codes.Unavailable, wantMsg: "Flex HRM rejected flexflow's credentials (FLEXHRM_CREDENTIALS)", reason: "FLEXHRM_CREDENTIALS_REJECTED"},
		{name: "an unknown customer number says so after the credentials message",
			err:      fmt.Errorf("find: %w", withDetail{domain.ErrCredentialsRejected, "Flex HRM does not know the customer number"}),
			wantCode: codes.Unavailable, wantMsg: "(FLEXHRM_CREDENTIALS): Flex HRM does not know the customer number", reason: "FLEXHRM_CREDENTIALS_REJECTED"},
		{name: "rate limiting after the retries is ResourceExhausted",
			err:      fmt.Errorf("find: %w", domain.ErrRateLimited),
			wantCode: codes.ResourceExhausted, wantMsg: "rate limiting", reason: "FLEXHRM_RATE_LIMITED"},
		{name: "an unavailable Flex HRM is Unavailable",
			err:      fmt.Errorf("find: %w", withDetail{domain.ErrUpstreamUnavailable, "flexhrm: find employees: 503 ServiceUnavailable (after 3 attempts)"}),
			wantCode: codes.Unavailable, wantMsg: "Flex HRM is unavailable: flexhrm: find employees: 503", reason: "FLEXHRM_UNAVAILABLE"},
		{name: "a company the API user may not see is FailedPrecondition",
			err:      domain.ErrCompanyForbidden,
			wantCode: codes.FailedPrecondition, wantMsg: "does not let flexflow's API user access", reason: "FLEXHRM_COMPANY_FORBIDDEN"},
		{name: "an invalid field is InvalidArgument naming it",
			err:      &domain.InvalidFieldError{Field: "national_id", Reason: "is not a valid Swedish personnummer or samordningsnummer"},
			wantCode: codes.InvalidArgument, wantMsg: "national_id: is not a valid", wantField: "national_id", reason: "INVALID_FIELD"},
		{name: "a Flex HRM validation refusal names our field, not Flex's",
			err:      &domain.UpstreamRejectedError{Code: "ValidationFailed", Fields: []string{"postalCode"}},
			wantCode: codes.InvalidArgument, wantMsg: "invalid postal_code", wantField: "postal_code", reason: "FLEXHRM_REJECTED_VALUES"},
		{name: "a deadline is DeadlineExceeded",
			err:      fmt.Errorf("find: %w", context.DeadlineExceeded),
			wantCode: codes.DeadlineExceeded, wantMsg: "deadline exceeded", reason: "DEADLINE_EXCEEDED"},
		{name: "anything else is Internal without its text",
			err:      errors.New("flexhrm: secret detail 19900312-1234"),
			wantCode: codes.Internal, wantMsg: "internal error", reason: "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv, err := ports.NewGRPCServer(failingDirectory{tt.err}, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = srv.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: "1001"})
			st := status.Convert(err)
			if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
				t.Fatalf("got %s %q; want %s containing %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if strings.Contains(st.Message(), "19900312") {
				t.Fatal("the status leaks a national ID")
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			if info.GetReason() != tt.reason || info.GetDomain() != ports.ErrorDomain {
				t.Fatalf("ErrorInfo %v, want reason %s", info, tt.reason)
			}
			if tt.reason == ports.ReasonAmbiguousEmployeeNumber && info.GetMetadata()["company_ids"] != "c-1,c-2" {
				t.Fatalf("company_ids %q", info.GetMetadata()["company_ids"])
			}
			if tt.wantField != "" {
				var found bool
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, v := range br.GetFieldViolations() {
							found = found || v.GetField() == tt.wantField
						}
					}
				}
				if !found {
					t.Fatalf("no BadRequest field violation for %s in %v", tt.wantField, st.Details())
				}
			}
			serverFault := tt.wantCode == codes.Internal || tt.wantCode == codes.Unavailable || tt.wantCode == codes.ResourceExhausted || tt.wantCode == codes.DeadlineExceeded
			if serverFault != (logs.Len() > 0) {
				t.Fatalf("logged %q; want the cause logged only for failures of the server or upstream", logs.String())
			}
		})
	}
}

func TestNewGRPCServerRefusesNil(t *testing.T) {
	if _, err := ports.NewGRPCServer(nil, slog.Default()); err == nil {
		t.Fatal("want an error")
	}
}

// waitError is a rate-limit refusal that knows how long Flex HRM asked to wait.
type waitError struct{ after time.Duration }

func (e waitError) Error() string             { return domain.ErrRateLimited.Error() }
func (e waitError) Unwrap() error             { return domain.ErrRateLimited }
func (e waitError) RetryAfter() time.Duration { return e.after }

func TestRateLimitingPassesFlexHRMsRetryAfterOnAsRetryInfo(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"retry_after_given_becomes_retry_info", fmt.Errorf("find: %w", waitError{3 * time.Second}), 3 * time.Second},
		{"no_retry_after_means_no_retry_info", fmt.Errorf("find: %w", domain.ErrRateLimited), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := ports.NewGRPCServer(failingDirectory{tt.err}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			_, err = srv.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: "1001"})
			st := status.Convert(err)
			var got time.Duration
			for _, d := range st.Details() {
				if ri, ok := d.(*errdetails.RetryInfo); ok {
					got = ri.GetRetryDelay().AsDuration()
				}
			}
			if st.Code() != codes.ResourceExhausted || got != tt.want {
				t.Fatalf("code %s, RetryInfo %s; want ResourceExhausted and %s", st.Code(), got, tt.want)
			}
		})
	}
}
