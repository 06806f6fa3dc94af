package testenv

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flexflow/flexflow/libs/flexhrm"
	employeedirectoryv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"
)

// directoryServer is a small, real EmployeeDirectoryService on top of the
// Flex HRM client, standing in for services/employee-directory until its
// service package can be started in-process. It reads what the real one
// reads (the employee, then periods, manager and titles in parallel) so the
// upstream call pattern matches.
type directoryServer struct {
	employeedirectoryv1.UnimplementedEmployeeDirectoryServiceServer
	flex  *flexhrm.Client
	token string
}

// StartDirectory serves the stand-in on a loopback port.
func StartDirectory(flex *flexhrm.Client, token string) (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer()
	employeedirectoryv1.RegisterEmployeeDirectoryServiceServer(srv, &directoryServer{flex: flex, token: token})
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), srv.Stop, nil
}

func (s *directoryServer) authorize(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) == 0 || v[0] != "Bearer "+s.token {
		return status.Error(codes.Unauthenticated, "missing or wrong bearer token")
	}
	return nil
}

func mapFlexErr(err error) error {
	var amb *flexhrm.AmbiguousEmployeeError
	switch {
	case errors.As(err, &amb):
		var names []string
		for _, c := range amb.Companies {
			names = append(names, c.Name)
		}
		return status.Errorf(codes.FailedPrecondition, "employee number %s exists in several Flex HRM companies (%s): pass company_id",
			amb.EmploymentNumber, strings.Join(names, ", "))
	case errors.Is(err, flexhrm.ErrNotFound):
		return status.Error(codes.NotFound, "employee not found in Flex HRM")
	case errors.Is(err, flexhrm.ErrUnauthorized):
		return status.Error(codes.FailedPrecondition, "Flex HRM rejected flexflow's credentials (FLEXHRM_CREDENTIALS)")
	case errors.Is(err, flexhrm.ErrValidation):
		return status.Error(codes.InvalidArgument, "Flex HRM refused the write")
	}
	return status.Error(codes.Unavailable, "Flex HRM is unavailable")
}

func (s *directoryServer) load(ctx context.Context, number, company string) (*employeedirectoryv1.Employee, flexhrm.Employee, []flexhrm.EmploymentPeriod, []flexhrm.EmploymentTitle, error) {
	e, err := s.flex.FindEmployee(ctx, number, company)
	if err != nil {
		return nil, e, nil, nil, mapFlexErr(err)
	}
	var (
		wg      sync.WaitGroup
		periods []flexhrm.EmploymentPeriod
		titles  []flexhrm.EmploymentTitle
		manager flexhrm.Employee
		errs    [3]error
	)
	wg.Add(2)
	go func() { defer wg.Done(); periods, errs[0] = s.flex.ListEmploymentPeriods(ctx, e.ID) }()
	go func() { defer wg.Done(); titles, errs[1] = s.flex.ListEmploymentTitles(ctx, e.CompanyID, false) }()
	if e.ImmediateManagerEmployeeID != "" {
		wg.Add(1)
		go func() { defer wg.Done(); manager, errs[2] = s.flex.GetEmployee(ctx, e.ImmediateManagerEmployeeID) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, e, nil, nil, mapFlexErr(err)
		}
	}
	out := &employeedirectoryv1.Employee{
		EmployeeNumber: number, FirstName: e.FirstName, Surname: e.LastName, NationalId: e.NationalIdentificationNumber,
		CoAddress: e.AddressRow1, StreetAddress: e.AddressRow2, PostalCode: e.PostalCode, City: e.City, Country: e.Country,
		EmailWork: e.EmailWork, MobilePhonePrivate: e.Phone4, FullName: strings.TrimSpace(e.FirstName + " " + e.LastName),
		Flex: &employeedirectoryv1.FlexIds{EmployeeId: e.ID, CompanyId: e.CompanyID, ManagerEmployeeId: e.ImmediateManagerEmployeeID},
	}
	if manager.ID != "" {
		out.ImmediateManagerName = strings.TrimSpace(manager.FirstName + " " + manager.LastName)
		out.ImmediateManagerEmail = manager.EmailWork
	}
	if p, ok := currentPeriod(periods); ok {
		out.EmploymentStart = p.FromDate.String()
		if p.ToDate != nil {
			out.EmploymentEnd = p.ToDate.String()
		}
		out.Flex.EmploymentPeriodId, out.Flex.TitleId = p.ID, p.TitleID
		for _, t := range titles {
			if t.ID == p.TitleID {
				out.Position = t.Name
			}
		}
	}
	return out, e, periods, titles, nil
}

func currentPeriod(periods []flexhrm.EmploymentPeriod) (flexhrm.EmploymentPeriod, bool) {
	today := flexhrm.DateOf(time.Now())
	var latest flexhrm.EmploymentPeriod
	found := false
	for _, p := range periods {
		if !p.FromDate.After(today) && (p.ToDate == nil || !p.ToDate.Before(today)) {
			return p, true
		}
		if !found || p.FromDate.After(latest.FromDate) {
			latest, found = p, true
		}
	}
	return latest, found
}

func (s *directoryServer) GetEmployee(ctx context.Context, req *employeedirectoryv1.GetEmployeeRequest) (*employeedirectoryv1.GetEmployeeResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	e, _, _, _, err := s.load(ctx, req.GetEmployeeNumber(), req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	return &employeedirectoryv1.GetEmployeeResponse{Employee: e}, nil
}

func (s *directoryServer) UpdateEmployee(ctx context.Context, req *employeedirectoryv1.UpdateEmployeeRequest) (*employeedirectoryv1.UpdateEmployeeResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	e, err := s.flex.FindEmployee(ctx, req.GetEmployeeNumber(), req.GetCompanyId())
	if err != nil {
		return nil, mapFlexErr(err)
	}
	in := req.GetEmployee()
	var changed []string
	set := func(name string, dst *string, v string) {
		if *dst != v {
			*dst = v
			changed = append(changed, name)
		}
	}
	for _, path := range req.GetUpdateMask().GetPaths() {
		switch path {
		case "first_name":
			set(path, &e.FirstName, in.GetFirstName())
		case "surname":
			set(path, &e.LastName, in.GetSurname())
		case "national_id":
			set(path, &e.NationalIdentificationNumber, in.GetNationalId())
		case "co_address":
			set(path, &e.AddressRow1, in.GetCoAddress())
		case "street_address":
			set(path, &e.AddressRow2, in.GetStreetAddress())
		case "postal_code":
			set(path, &e.PostalCode, in.GetPostalCode())
		case "city":
			set(path, &e.City, in.GetCity())
		case "country":
			set(path, &e.Country, in.GetCountry())
		case "email_work":
			set(path, &e.EmailWork, in.GetEmailWork())
		case "mobile_phone_private":
			set(path, &e.Phone4, in.GetMobilePhonePrivate())
		default:
			return nil, status.Errorf(codes.InvalidArgument, "update_mask: %s is not writable", path)
		}
	}
	if len(changed) > 0 {
		if _, err := s.flex.UpdateEmployee(ctx, e); err != nil {
			return nil, mapFlexErr(err)
		}
	}
	return &employeedirectoryv1.UpdateEmployeeResponse{ChangedFields: changed}, nil
}

func (s *directoryServer) UpsertEmploymentPeriod(ctx context.Context, req *employeedirectoryv1.UpsertEmploymentPeriodRequest) (*employeedirectoryv1.UpsertEmploymentPeriodResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	_, e, periods, titles, err := s.load(ctx, req.GetEmployeeNumber(), req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	from, err := flexhrm.ParseDate(req.GetFromDate())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "from_date: not a date")
	}
	var to *flexhrm.Date
	if req.GetToDate() != "" {
		d, err := flexhrm.ParseDate(req.GetToDate())
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, "to_date: not a date")
		}
		to = &d
	}
	resp := &employeedirectoryv1.UpsertEmploymentPeriodResponse{}
	titleID := ""
	if req.GetPosition() != "" {
		for _, t := range titles {
			if t.Active && strings.EqualFold(t.Name, req.GetPosition()) {
				titleID = t.ID
			}
		}
		if titleID == "" {
			resp.Warnings = append(resp.Warnings, "position matches no active title of the company; title left as it is")
		}
	}
	var existing *flexhrm.EmploymentPeriod
	for i := range periods {
		if periods[i].FromDate == from {
			existing = &periods[i]
		}
	}
	var written flexhrm.EmploymentPeriod
	if existing != nil {
		p := *existing
		sameTo := (p.ToDate == nil && to == nil) || (p.ToDate != nil && to != nil && *p.ToDate == *to)
		if sameTo && (titleID == "" || titleID == p.TitleID) {
			resp.Outcome = employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UNCHANGED
			resp.EmploymentPeriodId = p.ID
			return resp, nil
		}
		p.ToDate = to
		if titleID != "" {
			p.TitleID = titleID
		}
		written, err = s.flex.UpdateEmploymentPeriod(ctx, p)
		resp.Outcome = employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_UPDATED
	} else {
		written, err = s.flex.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{
			CompanyID: e.CompanyID, EmployeeID: e.ID, InstanceID: e.InstanceID, FromDate: from, ToDate: to, TitleID: titleID,
		})
		resp.Outcome = employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_CREATED
	}
	if errors.Is(err, flexhrm.ErrOverlappingDates) {
		return &employeedirectoryv1.UpsertEmploymentPeriodResponse{
			Outcome:  employeedirectoryv1.EmploymentPeriodOutcome_EMPLOYMENT_PERIOD_OUTCOME_OVERLAP_SKIPPED,
			Warnings: append(resp.Warnings, "Flex HRM refused the period: it overlaps another period"),
		}, nil
	}
	if err != nil {
		return nil, mapFlexErr(err)
	}
	resp.EmploymentPeriodId, resp.TitleId = written.ID, written.TitleID
	return resp, nil
}

