package service_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/service"
)

func TestGetEmployeeMapsEachField(t *testing.T) {
	h := start(t, nil).ready(t)
	resp, err := h.client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna})
	if err != nil {
		t.Fatal(err)
	}
	e := resp.GetEmployee()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"employee number comes from employment[].employmentNumber", e.GetEmployeeNumber(), "1001"},
		{"first name comes from firstName", e.GetFirstName(), "Anna"},
		{"surname comes from lastName", e.GetSurname(), "Lindström"},
		{"national id comes from nationalIdentificationNumber", e.GetNationalId(), "19900312-9831"},
		{"c/o address comes from addressRow1", e.GetCoAddress(), "c/o Berg"},
		{"street address comes from addressRow2", e.GetStreetAddress(), "Storgatan 1"},
		{"postal code comes from postalCode", e.GetPostalCode(), "111 22"},
		{"city comes from city", e.GetCity(), "Stockholm"},
		{"country comes from country", e.GetCountry(), "Sverige"},
		{"work email comes from emailWork", e.GetEmailWork(), "anna.lindstrom@example.se"},
		{"private mobile comes from phone4", e.GetMobilePhonePrivate(), "+46701740605"},
		{"immediate manager is the manager's name", e.GetImmediateManagerName(), "Maria Manager"},
		{"the manager's work email is included", e.GetImmediateManagerEmail(), sandbox.ManagerEmail},
		{"position is the current period's title name", e.GetPosition(), "Projektledare"},
		{"start of employment is the current period's fromDate as YYYY-MM-DD", e.GetEmploymentStart(), "2022-01-01"},
		{"end of employment is empty for an open-ended period", e.GetEmploymentEnd(), ""},
		{"full name is Flex HRM's name", e.GetFullName(), "Anna Lindström"},
		{"the Flex employee id is returned", e.GetFlex().GetEmployeeId(), sandbox.EmployeeAnna},
		{"the Flex company id is returned", e.GetFlex().GetCompanyId(), sandbox.CompanyA},
		{"the manager's Flex id is returned", e.GetFlex().GetManagerEmployeeId(), sandbox.EmployeeMaria},
		{"the period's Flex id is returned", e.GetFlex().GetEmploymentPeriodId(), sandbox.PeriodAnnaCurrent},
		{"the title's Flex id is returned", e.GetFlex().GetTitleId(), sandbox.TitleProjektledare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestGetEmployeeCases(t *testing.T) {
	h := start(t, nil).ready(t)
	tests := []struct {
		name     string
		req      *edv1.GetEmployeeRequest
		wantCode codes.Code
		wantMsg  []string
		check    func(t *testing.T, e *edv1.Employee)
	}{
		{
			name: "an employee without a manager has empty manager fields",
			req:  &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberNoMgr},
			check: func(t *testing.T, e *edv1.Employee) {
				if e.GetImmediateManagerName() != "" || e.GetImmediateManagerEmail() != "" || e.GetFlex().GetManagerEmployeeId() != "" {
					t.Fatalf("manager fields %q %q %q", e.GetImmediateManagerName(), e.GetImmediateManagerEmail(), e.GetFlex().GetManagerEmployeeId())
				}
				if e.GetFirstName() != "Bo" || e.GetPosition() != "Utvecklare" {
					t.Fatalf("got %v", e)
				}
			},
		},
		{
			name: "a manager without a work email gives the name and no email",
			req:  &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberNoEmail},
			check: func(t *testing.T, e *edv1.Employee) {
				if e.GetImmediateManagerName() != "Nils Utan E-post" || e.GetImmediateManagerEmail() != "" {
					t.Fatalf("manager %q <%s>", e.GetImmediateManagerName(), e.GetImmediateManagerEmail())
				}
			},
		},
		{
			name:     "an employment number in two companies is FailedPrecondition naming both",
			req:      &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberTwice},
			wantCode: codes.FailedPrecondition,
			wantMsg:  []string{"Flexflow Demo AB", "Flexflow Service AB", sandbox.CompanyA, sandbox.CompanyB, "company_id"},
		},
		{
			name: "a company id settles an ambiguous number",
			req:  &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberTwice, CompanyId: sandbox.CompanyB},
			check: func(t *testing.T, e *edv1.Employee) {
				if e.GetFirstName() != "Eva" || e.GetFlex().GetCompanyId() != sandbox.CompanyB {
					t.Fatalf("got %v", e)
				}
			},
		},
		{
			name:     "an unknown number is NotFound",
			req:      &edv1.GetEmployeeRequest{EmployeeNumber: "9999"},
			wantCode: codes.NotFound,
			wantMsg:  []string{"not found"},
		},
		{
			name:     "an empty number is InvalidArgument",
			req:      &edv1.GetEmployeeRequest{},
			wantCode: codes.InvalidArgument,
			wantMsg:  []string{"employee_number"},
		},
		{
			name:     "a company the API user may not access is FailedPrecondition",
			req:      &edv1.GetEmployeeRequest{EmployeeNumber: "4001", CompanyId: sandbox.CompanyHidden},
			wantCode: codes.FailedPrecondition,
			wantMsg:  []string{"does not let flexflow's API user access"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.client.GetEmployee(t.Context(), tt.req)
			if tt.wantCode != codes.OK {
				st := status.Convert(err)
				if st.Code() != tt.wantCode {
					t.Fatalf("code %s (%q), want %s", st.Code(), st.Message(), tt.wantCode)
				}
				for _, m := range tt.wantMsg {
					if !strings.Contains(st.Message(), m) {
						t.Errorf("message %q lacks %q", st.Message(), m)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, resp.GetEmployee())
		})
	}
}

func TestFlexHRMFailures(t *testing.T) {
	tests := []struct {
		name     string
		budget   time.Duration
		knob     func(t *testing.T, sb *sandbox.Server)
		wantCode codes.Code
		wantMsg  string
		checkLog func(t *testing.T, recs []sandbox.RequestRecord)
	}{
		{
			name:   "a 429 with Retry-After is waited out and then succeeds",
			budget: 3 * time.Second,
			knob: func(t *testing.T, sb *sandbox.Server) {
				mustKnob(t, sb.FailNext(sandbox.FailRule{PathID: "P1", Count: 1, Status: 429, RetryAfterSeconds: 1}))
			},
			wantCode: codes.OK,
			checkLog: func(t *testing.T, recs []sandbox.RequestRecord) {
				recs = onlyPath(recs, "P1")
				if len(recs) != 2 || recs[0].Status != 429 || recs[1].Status != 200 {
					t.Fatalf("want a refused P1 then a served one, got %+v", recs)
				}
				if gap := recs[1].Time.Sub(recs[0].Time); gap < time.Second {
					t.Fatalf("Retry-After not honoured: retried after %s", gap)
				}
			},
		},
		{
			name:   "a 503 storm past the retry budget is Unavailable",
			budget: 300 * time.Millisecond,
			knob: func(t *testing.T, sb *sandbox.Server) {
				mustKnob(t, sb.FailNext(sandbox.FailRule{PathID: "P1", Count: 10_000, Status: 503}))
			},
			wantCode: codes.Unavailable,
			wantMsg:  "Flex HRM is unavailable",
			checkLog: func(t *testing.T, recs []sandbox.RequestRecord) {
				if n := countPath(recs, "P1", "GET"); n < 2 {
					t.Fatalf("want retries before giving up, got %d attempts", n)
				}
			},
		},
		{
			name:   "rate limiting past the retry budget is ResourceExhausted",
			budget: 300 * time.Millisecond,
			knob: func(t *testing.T, sb *sandbox.Server) {
				mustKnob(t, sb.FailNext(sandbox.FailRule{PathID: "P1", Count: 10_000, Status: 429}))
			},
			wantCode: codes.ResourceExhausted,
			wantMsg:  "rate limiting",
		},
		{
			name:   "credentials revoked at run time are Unavailable naming FLEXHRM_CREDENTIALS",
			budget: 300 * time.Millisecond,
			knob: func(t *testing.T, sb *sandbox.Server) {
				sb.SetCredentialsRevoked(true)
			},
			wantCode: codes.Unavailable,
			wantMsg:  "Flex HRM rejected flexflow's credentials (FLEXHRM_CREDENTIALS)",
			checkLog: func(t *testing.T, recs []sandbox.RequestRecord) {
				if len(recs) != 1 || recs[0].Status != 401 {
					t.Fatalf("a 401 must not be retried: %+v", recs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(c *service.Config, _ *sandbox.Server) { c.FlexHRMRetryBudget = tt.budget }).ready(t)
			tt.knob(t, h.sandbox)
			_, err := h.client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna})
			st := status.Convert(err)
			if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
				t.Fatalf("got %s %q; want %s containing %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if tt.checkLog != nil {
				tt.checkLog(t, h.calls())
			}
		})
	}
}

func onlyPath(recs []sandbox.RequestRecord, pathID string) []sandbox.RequestRecord {
	var out []sandbox.RequestRecord
	for _, r := range recs {
		if r.PathID == pathID {
			out = append(out, r)
		}
	}
	return out
}

func mustKnob(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestStartUpCheck(t *testing.T) {
	t.Run("bad credentials start the service NOT_SERVING and calls say why", func(t *testing.T) {
		h := start(t, func(c *service.Config, _ *sandbox.Server) { c.FlexHRMCredentials = badCredentials() })
		// Let the background check fail at least once.
		for countPath(h.calls(), "P8", "GET") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if got := h.health(t); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("health = %s", got)
		}
		_, err := h.client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna})
		st := status.Convert(err)
		if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "FLEXHRM_CREDENTIALS") {
			t.Fatalf("got %s %q", st.Code(), st.Message())
		}
		if strings.Contains(st.Message(), "wrong-password") {
			t.Fatal("the message leaks the credentials")
		}
	})
	t.Run("the check is retried and health turns SERVING once Flex HRM accepts the credentials", func(t *testing.T) {
		h := start(t, func(_ *service.Config, sb *sandbox.Server) { sb.SetCredentialsRevoked(true) })
		for countPath(h.calls(), "P8", "GET") < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		if got := h.health(t); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("health while Flex HRM refuses = %s", got)
		}
		h.sandbox.SetCredentialsRevoked(false)
		h.ready(t)
		if got := h.health(t); got != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health = %s", got)
		}
	})
}

func TestUpdateEmployee(t *testing.T) {
	tests := []struct {
		name        string
		req         *edv1.UpdateEmployeeRequest
		wantCode    codes.Code
		wantMsg     string
		wantChanged []string
		wantPuts    int
		wantNoFlex  bool
		check       func(t *testing.T, before, after sandbox.Employee)
	}{
		{
			name: "a field-mask update writes only what changed",
			req: &edv1.UpdateEmployeeRequest{
				EmployeeNumber: sandbox.EmploymentNumberNoMgr,
				Employee:       &edv1.Employee{FirstName: "Bo", City: "Malmö", Country: "Norge (not in the mask)"},
				UpdateMask:     &fieldmaskpb.FieldMask{Paths: []string{"first_name", "city"}},
			},
			wantChanged: []string{"city"},
			wantPuts:    1,
			check: func(t *testing.T, before, after sandbox.Employee) {
				if *after.City != "Malmö" || *after.Country != "Sverige" || *after.FirstName != "Bo" {
					t.Fatalf("stored city %q country %q first %q", *after.City, *after.Country, *after.FirstName)
				}
				if after.EmailPrivate == nil || *after.EmailPrivate != *before.EmailPrivate {
					t.Fatal("a property flexflow does not map (emailPrivate) was lost by the PUT")
				}
			},
		},
		{
			name: "a valid national ID is written",
			req: &edv1.UpdateEmployeeRequest{
				EmployeeNumber: sandbox.EmploymentNumberNoMgr,
				Employee:       &edv1.Employee{NationalId: "19121212-1212"},
				UpdateMask:     &fieldmaskpb.FieldMask{Paths: []string{"national_id"}},
			},
			wantChanged: []string{"national_id"},
			wantPuts:    1,
		},
		{
			name: "unchanged values make no PUT",
			req: &edv1.UpdateEmployeeRequest{
				EmployeeNumber: sandbox.EmploymentNumberNoMgr,
				Employee:       &edv1.Employee{City: "Lund", EmailWork: "bo.ek@example.se"},
				UpdateMask:     &fieldmaskpb.FieldMask{Paths: []string{"city", "email_work"}},
			},
			wantPuts: 0,
		},
		{
			name: "an invalid national ID is InvalidArgument naming the field, before Flex HRM is called",
			req: &edv1.UpdateEmployeeRequest{
				EmployeeNumber: sandbox.EmploymentNumberNoMgr,
				Employee:       &edv1.Employee{NationalId: "19850101-9842"},
				UpdateMask:     &fieldmaskpb.FieldMask{Paths: []string{"national_id"}},
			},
			wantCode:   codes.InvalidArgument,
			wantMsg:    "national_id",
			wantNoFlex: true,
		},
		{
			name: "a read-only mask path is InvalidArgument",
			req: &edv1.UpdateEmployeeRequest{
				EmployeeNumber: sandbox.EmploymentNumberNoMgr,
				Employee:       &edv1.Employee{Position: "Chef"},
				UpdateMask:     &fieldmaskpb.FieldMask{Paths: []string{"position"}},
			},
			wantCode:   codes.InvalidArgument,
			wantMsg:    "UpsertEmploymentPeriod",
			wantNoFlex: true,
		},
		{
			name: "an empty mask is InvalidArgument",
			req: &edv1.UpdateEmployeeRequest{
				EmployeeNumber: sandbox.EmploymentNumberNoMgr,
				Employee:       &edv1.Employee{City: "Malmö"},
			},
			wantCode:   codes.InvalidArgument,
			wantMsg:    "update_mask",
			wantNoFlex: true,
		},
	}
	h := start(t, nil).ready(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.sandbox.Reset()
			before := employeeOf(h.sandbox.State(), sandbox.EmployeeNoManager)
			resp, err := h.client.UpdateEmployee(t.Context(), tt.req)
			recs := h.calls()
			if tt.wantCode != codes.OK {
				st := status.Convert(err)
				if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
					t.Fatalf("got %s %q; want %s containing %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
				}
				if strings.Contains(st.Message(), tt.req.GetEmployee().GetNationalId()) && tt.req.GetEmployee().GetNationalId() != "" {
					t.Fatal("the message repeats the national ID")
				}
				if tt.wantNoFlex && len(recs) != 0 {
					t.Fatalf("Flex HRM was called: %+v", recs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.GetChangedFields(), tt.wantChanged) {
				t.Errorf("changed %q, want %q", resp.GetChangedFields(), tt.wantChanged)
			}
			if got := countPath(recs, "P3", "PUT"); got != tt.wantPuts || len(writes(recs)) != tt.wantPuts {
				t.Errorf("PUTs %d (writes %d), want %d", got, len(writes(recs)), tt.wantPuts)
			}
			if resp.GetEmployee().GetPosition() != "Utvecklare" {
				t.Errorf("the answer is not the full mapped employee: %v", resp.GetEmployee())
			}
			if tt.check != nil {
				tt.check(t, before, employeeOf(h.sandbox.State(), sandbox.EmployeeNoManager))
			}
		})
	}
}

func TestUpsertEmploymentPeriod(t *testing.T) {
	h := start(t, nil).ready(t)
	periodsOfAnna := func() []sandbox.EmploymentPeriod {
		var out []sandbox.EmploymentPeriod
		for _, p := range h.sandbox.State().EmploymentPeriods {
			if p.EmployeeID == sandbox.EmployeeAnna {
				out = append(out, p)
			}
		}
		return out
	}
	// The steps build on each other, like contracts signed one after another.
	steps := []struct {
		name        string
		req         *edv1.UpsertEmploymentPeriodRequest
		wantOutcome edv1.EmploymentPeriodOutcome
		wantTitle   string
		wantWarning string
		wantWrites  []string // "P5 POST", "P6 PUT"
		check       func(t *testing.T)
	}{
		{
			name:        "an overlap is reported as skipped and nothing is written",
			req:         &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2021-06-01", ToDate: "2022-06-30"},
			wantOutcome: edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_OVERLAP_SKIPPED,
			wantWarning: "overlaps 2019-01-01..2021-12-31, 2022-01-01..open",
			wantWrites:  []string{"P5 POST"},
			check: func(t *testing.T) {
				if n := len(periodsOfAnna()); n != 2 {
					t.Fatalf("Anna has %d periods, want 2", n)
				}
			},
		},
		{
			name:        "the period with the same start date is updated with the matched title",
			req:         &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2022-01-01", ToDate: "2024-12-31", Position: "utvecklare"},
			wantOutcome: edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UPDATED,
			wantTitle:   sandbox.TitleUtvecklare,
			wantWrites:  []string{"P6 PUT"},
			check: func(t *testing.T) {
				for _, p := range periodsOfAnna() {
					if p.ID == sandbox.PeriodAnnaCurrent && (p.TitleID == nil || *p.TitleID != sandbox.TitleUtvecklare || p.ToDate == nil || p.ToDate.String() != "2024-12-31") {
						t.Fatalf("stored %+v", p)
					}
				}
			},
		},
		{
			name:        "a new start date creates a period",
			req:         &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2025-01-01", Position: "Avdelningschef"},
			wantOutcome: edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_CREATED,
			wantTitle:   "71000000-0000-4000-8000-0000000000a4",
			wantWrites:  []string{"P5 POST"},
			check: func(t *testing.T) {
				if n := len(periodsOfAnna()); n != 3 {
					t.Fatalf("Anna has %d periods, want 3", n)
				}
			},
		},
		{
			name:        "the same values again are unchanged and not written",
			req:         &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2025-01-01", Position: "avdelningschef"},
			wantOutcome: edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UNCHANGED,
			wantTitle:   "71000000-0000-4000-8000-0000000000a4",
		},
		{
			name:        "an unmatched position is written without a title change and a warning",
			req:         &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2025-01-01", ToDate: "2025-12-31", Position: "Astronaut"},
			wantOutcome: edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UPDATED,
			wantWarning: `position "Astronaut" matches no active title`,
			wantWrites:  []string{"P6 PUT"},
		},
		{
			name:        "an inactive title is not matched",
			req:         &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2025-01-01", ToDate: "2025-12-31", Position: "Lagerarbetare"},
			wantOutcome: edv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UNCHANGED,
			wantWarning: "matches no active title",
		},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			h.sandbox.ClearRequests()
			resp, err := h.client.UpsertEmploymentPeriod(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetOutcome() != tt.wantOutcome || resp.GetTitleId() != tt.wantTitle {
				t.Fatalf("outcome %s title %q; want %s %q", resp.GetOutcome(), resp.GetTitleId(), tt.wantOutcome, tt.wantTitle)
			}
			warnings := strings.Join(resp.GetWarnings(), " | ")
			if (tt.wantWarning == "") != (warnings == "") || !strings.Contains(warnings, tt.wantWarning) {
				t.Fatalf("warnings %q, want %q", warnings, tt.wantWarning)
			}
			var got []string
			for _, r := range writes(h.calls()) {
				got = append(got, r.PathID+" "+r.Method)
			}
			if !slices.Equal(got, tt.wantWrites) {
				t.Fatalf("writes %q, want %q", got, tt.wantWrites)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
	t.Run("an end before the start is InvalidArgument", func(t *testing.T) {
		_, err := h.client.UpsertEmploymentPeriod(t.Context(), &edv1.UpsertEmploymentPeriodRequest{EmployeeNumber: "1001", FromDate: "2025-01-01", ToDate: "2024-01-01"})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "to_date") {
			t.Fatalf("got %s %q", st.Code(), st.Message())
		}
	})
}

func TestListEmployeesWalksEveryVisibleCompany(t *testing.T) {
	h := start(t, nil).ready(t)
	seen := map[string]bool{}
	companies := map[string]bool{}
	token, total := "", int32(-1)
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		resp, err := h.client.ListEmployees(t.Context(), &edv1.ListEmployeesRequest{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if total >= 0 && resp.GetTotalSize() != total {
			t.Fatalf("total changed between pages: %d then %d", total, resp.GetTotalSize())
		}
		total = resp.GetTotalSize()
		for _, e := range resp.GetEmployees() {
			key := e.GetFlex().GetEmployeeId()
			if seen[key] {
				t.Fatalf("employee %s listed twice", key)
			}
			seen[key] = true
			companies[e.GetFlex().GetCompanyId()] = true
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if int(total) != len(seen) || len(seen) != 8 {
		t.Fatalf("listed %d employees, total %d; want the 8 the API user sees", len(seen), total)
	}
	if len(companies) != 3 || companies[sandbox.CompanyHidden] {
		t.Fatalf("companies %v: want A, B and C, not the hidden one", companies)
	}

	t.Run("a company filter lists that company only", func(t *testing.T) {
		resp, err := h.client.ListEmployees(t.Context(), &edv1.ListEmployeesRequest{CompanyId: sandbox.CompanyB})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetEmployees()) != 1 || resp.GetTotalSize() != 1 || resp.GetEmployees()[0].GetFirstName() != "Eva" {
			t.Fatalf("got %v", resp)
		}
	})
	t.Run("a forged page token is InvalidArgument", func(t *testing.T) {
		_, err := h.client.ListEmployees(t.Context(), &edv1.ListEmployeesRequest{PageToken: "forged"})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCallersAuthenticate(t *testing.T) {
	h := start(t, nil).ready(t)
	dial := func(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
		conn, err := grpc.NewClient(h.svc.Addr(), append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	tests := []struct {
		name     string
		opts     []grpc.DialOption
		wantCode codes.Code
	}{
		{name: "a caller without a token is Unauthenticated", wantCode: codes.Unauthenticated},
		{name: "a caller with an unknown token is Unauthenticated",
			opts: []grpc.DialOption{grpc.WithPerRPCCredentials(auth.BearerCredentials("not-a-token-of-ours-at-all"))}, wantCode: codes.Unauthenticated},
		{name: "a caller with an operator token (the wrong kind) is PermissionDenied",
			opts: []grpc.DialOption{grpc.WithPerRPCCredentials(auth.BearerCredentials(operatorToken))}, wantCode: codes.PermissionDenied},
		{name: "a caller with an employee token is served",
			opts: []grpc.DialOption{grpc.WithPerRPCCredentials(auth.BearerCredentials(employeeToken))}, wantCode: codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.sandbox.ClearRequests()
			client := edv1.NewEmployeeDirectoryServiceClient(dial(t, tt.opts...))
			_, err := client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: "1001"})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("got %v, want %s", err, tt.wantCode)
			}
			if tt.wantCode != codes.OK && len(h.calls()) != 0 {
				t.Fatal("a refused caller reached Flex HRM")
			}
		})
	}
	t.Run("health is open without a token", func(t *testing.T) {
		if got := h.health(t); got != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health = %s", got)
		}
	})
	t.Run("reflection is open without a token and lists the service", func(t *testing.T) {
		stream, err := reflectionpb.NewServerReflectionClient(dial(t)).ServerReflectionInfo(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		_ = stream.CloseSend()
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		if !slices.Contains(names, "flexflow.employeedirectory.v1.EmployeeDirectoryService") {
			t.Fatalf("services %q", names)
		}
		if _, err := stream.Recv(); err != io.EOF && err != nil && status.Code(err) != codes.Canceled {
			t.Logf("after close: %v", err)
		}
	})
}

func TestEmployeeCacheAndCollapsedLookups(t *testing.T) {
	t.Run("a cached read skips Flex HRM and a write makes the next read fresh", func(t *testing.T) {
		h := start(t, func(c *service.Config, _ *sandbox.Server) { c.EmployeeCacheTTL = time.Hour }).ready(t)
		get := func() *edv1.Employee {
			resp, err := h.client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: "1002"})
			if err != nil {
				t.Fatal(err)
			}
			return resp.GetEmployee()
		}
		get()
		n := len(h.calls())
		get()
		if len(h.calls()) != n {
			t.Fatal("the second read went to Flex HRM")
		}
		_, err := h.client.UpdateEmployee(t.Context(), &edv1.UpdateEmployeeRequest{EmployeeNumber: "1002",
			Employee: &edv1.Employee{City: "Visby"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"city"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := get().GetCity(); got != "Visby" {
			t.Fatalf("read after write = %q", got)
		}
	})
	t.Run("concurrent identical lookups share one upstream call", func(t *testing.T) {
		h := start(t, nil).ready(t)
		h.sandbox.SetLatency(200 * time.Millisecond)
		const callers = 8
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if _, err := h.client.GetEmployee(context.Background(), &edv1.GetEmployeeRequest{EmployeeNumber: "1001"}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := countPath(h.calls(), "P1", "GET"); n >= callers {
			t.Fatalf("%d callers made %d lookups: none were collapsed", callers, n)
		}
	})
}

func TestCloseDrainsCallsInFlight(t *testing.T) {
	h := start(t, nil).ready(t)
	h.sandbox.SetLatency(150 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := h.client.GetEmployee(context.Background(), &edv1.GetEmployeeRequest{EmployeeNumber: "1001"})
		done <- err
	}()
	// Wait until the call reached Flex HRM, then stop the service.
	for len(h.calls()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := h.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("a call in flight failed on shutdown: %v", err)
	}
}
