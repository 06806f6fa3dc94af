// Package ctl is flexflowctl, the operator's command-line tool: sync logs,
// replay, failures, documents, employees and health over gRPC, and the two
// setup commands (check, setup-oneflow) that replace what Oneflow's setup
// guide makes people do by hand.
package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Exit codes: scripts branch on them.
const (
	ExitOK          = 0
	ExitFailed      = 1 // the command ran and found a problem (check) or the call failed
	ExitUsage       = 2 // bad arguments
	ExitUnavailable = 3 // a service could not be reached
	ExitAuth        = 4 // a token was missing or refused
	ExitNotFound    = 5 // the contract, employee or document does not exist
)

// ExitError carries an exit code and a message that says what to do.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// Env is what the tool reads from its environment, injectable for tests.
type Env struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
}

type options struct {
	env           Env
	json          bool
	timeout       time.Duration
	employeeAddr  string
	syncAddr      string
	archiveAddr   string
	operatorToken string
	employeeToken string
}

func (o *options) getenv(name, def string) string {
	if v := o.env.Getenv(name); v != "" {
		return v
	}
	return def
}

// NewRoot builds the command tree.
func NewRoot(env Env) *cobra.Command {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	o := &options{env: env}
	root := &cobra.Command{
		Use:           "flexflowctl",
		Short:         "Operate flexflow: sync logs, replay, failures, documents, employees, setup checks",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `flexflowctl talks gRPC to flexflow's services.

Addresses come from EMPLOYEE_DIRECTORY_ADDR, CONTRACT_SYNC_ADDR and DOCUMENT_ARCHIVE_ADDR
(defaults 127.0.0.1:9091/9092/9093). Operator commands present FLEXFLOW_OPERATOR_TOKEN (or the
first of OPERATOR_TOKENS); employee lookups present FLEXFLOW_EMPLOYEE_TOKEN (or the first of
EMPLOYEE_DIRECTORY_TOKENS). Exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 token
refused, 5 not found.`,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	pf := root.PersistentFlags()
	pf.BoolVar(&o.json, "json", false, "print JSON instead of tables")
	pf.DurationVar(&o.timeout, "timeout", 15*time.Second, "deadline for each call")
	pf.StringVar(&o.employeeAddr, "employee-directory", o.getenv("EMPLOYEE_DIRECTORY_ADDR", "127.0.0.1:9091"), "employee-directory gRPC address")
	pf.StringVar(&o.syncAddr, "contract-sync", o.getenv("CONTRACT_SYNC_ADDR", "127.0.0.1:9092"), "contract-sync gRPC address")
	pf.StringVar(&o.archiveAddr, "document-archive", o.getenv("DOCUMENT_ARCHIVE_ADDR", "127.0.0.1:9093"), "document-archive gRPC address")
	o.operatorToken = firstToken(o.getenv("FLEXFLOW_OPERATOR_TOKEN", o.env.Getenv("OPERATOR_TOKENS")))
	o.employeeToken = firstToken(o.getenv("FLEXFLOW_EMPLOYEE_TOKEN", o.env.Getenv("EMPLOYEE_DIRECTORY_TOKENS")))

	root.AddCommand(
		statusCmd(o), replayCmd(o), failuresCmd(o), documentsCmd(o), employeeCmd(o), healthCmd(o),
		checkCmd(o), setupOneflowCmd(o),
	)
	return root
}

// Main runs the tool and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	root := NewRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		fmt.Fprintln(root.ErrOrStderr(), "flexflowctl:", ee.Msg)
		return ee.Code
	}
	// Cobra's own errors (unknown command, bad flag, wrong argument count).
	fmt.Fprintln(root.ErrOrStderr(), "flexflowctl:", err)
	fmt.Fprintln(root.ErrOrStderr(), "run 'flexflowctl --help' for usage")
	return ExitUsage
}

func firstToken(list string) string {
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			return t
		}
	}
	return ""
}

// dial opens a connection that presents token on every call.
func (o *options) dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Msg: fmt.Sprintf("bad address %q: %v", addr, err)}
	}
	return conn, nil
}

func (o *options) callCtx(ctx context.Context, token string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	return ctx, cancel
}

// callError turns a gRPC error into an exit code and advice.
func callError(service, addr, tokenVar string, err error) error {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return &ExitError{Code: ExitUnavailable, Msg: fmt.Sprintf("%s at %s is not reachable (%s): is it running? check the address flag or its *_ADDR variable", service, addr, st.Message())}
	case codes.Unauthenticated:
		return &ExitError{Code: ExitAuth, Msg: fmt.Sprintf("%s needs a token: set %s", service, tokenVar)}
	case codes.PermissionDenied:
		return &ExitError{Code: ExitAuth, Msg: fmt.Sprintf("%s refused the token: %s must be one of the tokens %s accepts", service, tokenVar, service)}
	case codes.NotFound:
		return &ExitError{Code: ExitNotFound, Msg: fmt.Sprintf("%s: %s", service, st.Message())}
	case codes.InvalidArgument, codes.FailedPrecondition:
		return &ExitError{Code: ExitFailed, Msg: fmt.Sprintf("%s: %s", service, st.Message())}
	default:
		return &ExitError{Code: ExitFailed, Msg: fmt.Sprintf("%s: %s: %s", service, st.Code(), st.Message())}
	}
}

// printJSON writes a protobuf message (or any value) as indented JSON.
func (o *options) printJSON(v any) error {
	if m, ok := v.(proto.Message); ok {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			return err
		}
		// protojson varies its whitespace on purpose; re-indent so scripts
		// and people get stable output.
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.env.Stdout, out.String())
		return err
	}
	enc := json.NewEncoder(o.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o *options) table(header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(o.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}
