package ctl

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	employeedirectoryv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"
)

const operatorTokenVar = "FLEXFLOW_OPERATOR_TOKEN"

func parseContractID(arg string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || id <= 0 {
		return 0, &ExitError{Code: ExitUsage, Msg: fmt.Sprintf("%q is not a Oneflow contract id (a positive number)", arg)}
	}
	return id, nil
}

func ts(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().Local().Format(time.DateTime)
}

func trimEnum(s, prefix string) string { return strings.ToLower(strings.TrimPrefix(s, prefix)) }

// onContractSync runs call against contract-sync with the operator token and
// a deadline, turning a failure into an exit code with advice.
func onContractSync[T any](cmd *cobra.Command, o *options, call func(context.Context, contractsyncv1.ContractSyncServiceClient) (T, error)) (T, error) {
	var zero T
	conn, err := o.dial(o.syncAddr)
	if err != nil {
		return zero, err
	}
	defer conn.Close()
	ctx, cancel := o.callCtx(cmd.Context(), o.operatorToken)
	defer cancel()
	resp, err := call(ctx, contractsyncv1.NewContractSyncServiceClient(conn))
	if err != nil {
		return zero, callError("contract-sync", o.syncAddr, operatorTokenVar, err)
	}
	return resp, nil
}

func statusCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "status <contract-id>",
		Short: "Show a contract's sync state and sync log",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseContractID(args[0])
			if err != nil {
				return err
			}
			resp, err := onContractSync(cmd, o, func(ctx context.Context, c contractsyncv1.ContractSyncServiceClient) (*contractsyncv1.GetContractSyncResponse, error) {
				return c.GetContractSync(ctx, &contractsyncv1.GetContractSyncRequest{ContractId: id})
			})
			if err != nil {
				return err
			}
			if o.json {
				return o.printJSON(resp)
			}
			s := resp.GetSync()
			fmt.Fprintf(o.env.Stdout, "contract %d: %s (Oneflow state %q, employee %q, generation %d)\n",
				s.GetContractId(), trimEnum(s.GetStatus().String(), "SYNC_STATUS_"), s.GetOneflowState(), s.GetEmployeeNumber(), s.GetGeneration())
			if s.GetLastFailure() != "" {
				fmt.Fprintf(o.env.Stdout, "last failure: %s\n", s.GetLastFailure())
			}
			tw := o.table("TIME", "SERVICE", "FLOW", "STEP", "OUTCOME", "REASON", "TRACE")
			for _, e := range resp.GetEntries() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ts(e.GetTime()), e.GetService(),
					trimEnum(e.GetFlow().String(), "FLOW_"), e.GetStep(), trimEnum(e.GetOutcome().String(), "OUTCOME_"), e.GetReason(), e.GetTraceId())
			}
			return tw.Flush()
		},
	}
}

func replayCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "replay <contract-id>",
		Short: "Re-run a contract's flows for its current state (idempotent)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseContractID(args[0])
			if err != nil {
				return err
			}
			resp, err := onContractSync(cmd, o, func(ctx context.Context, c contractsyncv1.ContractSyncServiceClient) (*contractsyncv1.ReplayContractResponse, error) {
				return c.ReplayContract(ctx, &contractsyncv1.ReplayContractRequest{ContractId: id})
			})
			if err != nil {
				return err
			}
			if o.json {
				return o.printJSON(resp)
			}
			fmt.Fprintf(o.env.Stdout, "replay of contract %d queued (trace %s); follow it with: flexflowctl status %d\n", id, resp.GetTraceId(), id)
			return nil
		},
	}
}

func failuresCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "failures",
		Short: "List contracts whose last attempt failed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var all []*contractsyncv1.ContractFailure
			token := ""
			for {
				resp, err := onContractSync(cmd, o, func(ctx context.Context, c contractsyncv1.ContractSyncServiceClient) (*contractsyncv1.ListFailuresResponse, error) {
					return c.ListFailures(ctx, &contractsyncv1.ListFailuresRequest{PageSize: 500, PageToken: token})
				})
				if err != nil {
					return err
				}
				all = append(all, resp.GetFailures()...)
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if o.json {
				return o.printJSON(&contractsyncv1.ListFailuresResponse{Failures: all})
			}
			if len(all) == 0 {
				fmt.Fprintln(o.env.Stdout, "no failed contracts")
				return nil
			}
			tw := o.table("CONTRACT", "FLOW", "FAILED", "REASON", "TRACE")
			for _, f := range all {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", f.GetContractId(), trimEnum(f.GetFlow().String(), "FLOW_"), ts(f.GetFailedTime()), f.GetReason(), f.GetTraceId())
			}
			return tw.Flush()
		},
	}
}

func documentsCmd(o *options) *cobra.Command {
	var employee string
	cmd := &cobra.Command{
		Use:   "documents <contract-id> | documents --employee <employee-number>",
		Short: "List the PDFs flexflow archived in Flex HRM",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &documentarchivev1.ListDocumentsRequest{EmployeeNumber: employee}
			switch {
			case len(args) == 1 && employee == "":
				id, err := parseContractID(args[0])
				if err != nil {
					return err
				}
				req.ContractId = id
			case len(args) == 0 && employee != "":
			default:
				return &ExitError{Code: ExitUsage, Msg: "give either a contract id or --employee <number>, not both"}
			}
			conn, err := o.dial(o.archiveAddr)
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := o.callCtx(cmd.Context(), o.operatorToken)
			defer cancel()
			resp, err := documentarchivev1.NewDocumentArchiveServiceClient(conn).ListDocuments(ctx, req)
			if err != nil {
				return callError("document-archive", o.archiveAddr, operatorTokenVar, err)
			}
			if o.json {
				return o.printJSON(resp)
			}
			tw := o.table("CONTRACT", "STATUS", "GEN", "TITLE", "SIZE", "SHA-256", "FLEX DOCUMENT", "ARCHIVED")
			for _, d := range resp.GetDocuments() {
				sum := d.GetSha256()
				if len(sum) > 12 {
					sum = sum[:12] + "…"
				}
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", d.GetContractId(), trimEnum(d.GetStatus().String(), "DOCUMENT_STATUS_"),
					d.GetGeneration(), d.GetTitle(), d.GetSizeBytes(), sum, d.GetFlexDocumentId(), ts(d.GetArchivedTime()))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&employee, "employee", "", "list by employee number instead of contract")
	return cmd
}

func employeeCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "employee <employee-number>",
		Short: "Show an employee as flexflow maps it (the 15 fields)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := o.dial(o.employeeAddr)
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := o.callCtx(cmd.Context(), o.employeeToken)
			defer cancel()
			resp, err := employeedirectoryv1.NewEmployeeDirectoryServiceClient(conn).GetEmployee(ctx, &employeedirectoryv1.GetEmployeeRequest{EmployeeNumber: args[0]})
			if err != nil {
				return callError("employee-directory", o.employeeAddr, "FLEXFLOW_EMPLOYEE_TOKEN", err)
			}
			if o.json {
				return o.printJSON(resp)
			}
			e := resp.GetEmployee()
			tw := o.table("FIELD", "VALUE")
			for _, row := range [][2]string{
				{"Employee number", e.GetEmployeeNumber()}, {"First name", e.GetFirstName()}, {"Surname", e.GetSurname()},
				{"National ID number", e.GetNationalId()}, {"C/O address", e.GetCoAddress()}, {"Street address", e.GetStreetAddress()},
				{"Postal code", e.GetPostalCode()}, {"City", e.GetCity()}, {"Country", e.GetCountry()}, {"Email work", e.GetEmailWork()},
				{"Mobile phone private", e.GetMobilePhonePrivate()}, {"Immediate manager", e.GetImmediateManagerName()},
				{"Position", e.GetPosition()}, {"Start of employment", e.GetEmploymentStart()}, {"End of employment", e.GetEmploymentEnd()},
			} {
				fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
			}
			return tw.Flush()
		},
	}
}

func healthCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "health",
		Short: "Ask every service for its gRPC health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			type row struct {
				Service string `json:"service"`
				Addr    string `json:"addr"`
				Status  string `json:"status"`
			}
			var rows []row
			healthy := true
			for _, s := range []struct{ name, addr string }{
				{"employee-directory", o.employeeAddr}, {"contract-sync", o.syncAddr}, {"document-archive", o.archiveAddr},
			} {
				st := "UNREACHABLE"
				if conn, err := o.dial(s.addr); err == nil {
					ctx, cancel := o.callCtx(cmd.Context(), "")
					if resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
						st = resp.GetStatus().String()
					}
					cancel()
					conn.Close()
				}
				if st != healthpb.HealthCheckResponse_SERVING.String() {
					healthy = false
				}
				rows = append(rows, row{s.name, s.addr, st})
			}
			if o.json {
				if err := o.printJSON(rows); err != nil {
					return err
				}
			} else {
				tw := o.table("SERVICE", "ADDRESS", "STATUS")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Service, r.Addr, r.Status)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			if !healthy {
				return &ExitError{Code: ExitUnavailable, Msg: "not every service is SERVING: start them with 'make run' or check the addresses"}
			}
			return nil
		},
	}
}
