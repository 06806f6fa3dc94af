package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	gateway "github.com/flexflow/flexflow/gateway/service"
	"github.com/flexflow/flexflow/libs/config"
	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/natsx"
	ofsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	contractsync "github.com/flexflow/flexflow/services/contract-sync/service"
	documentarchive "github.com/flexflow/flexflow/services/document-archive/service"
	employeedirectory "github.com/flexflow/flexflow/services/employee-directory/service"
)

const (
	benchOperatorToken  = "bench-operator-token-0123456789"
	benchDirectoryToken = "bench-directory-token-0123456789"
)

// system is the whole of flexflow in this process, with both vendor
// sandboxes: every service from its public service package, configured from
// an environment map so that production defaults apply (retry delays,
// workers, caches), except addresses and data directories.
type system struct {
	dir       string
	flex      *flexsandbox.Server
	oneflow   *ofsandbox.Server
	proxies   map[string]*flexProxy // by process name
	directory *employeedirectory.Service
	archive   *documentarchive.Service
	sync      *contractsync.Service
	gw        *gateway.Gateway
	conn      *grpc.ClientConn
	client    contractsyncv1.ContractSyncServiceClient
	closers   []func()
}

// startSystem starts NATS, the sandboxes, a recording proxy per process in
// front of Flex HRM, employee-directory, document-archive, contract-sync and
// the gateway, and points the Oneflow sandbox's webhooks at the gateway.
func startSystem(ctx context.Context, flex *flexsandbox.Server, logger *slog.Logger) (_ *system, err error) {
	s := &system{flex: flex, proxies: map[string]*flexProxy{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "flexflow-bench-system-"); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = os.RemoveAll(s.dir) })
	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{DataDir: s.dir, ServerName: "bench-system"})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { srv.Shutdown(); srv.WaitForShutdown() })

	flexRoot, err := flex.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, flex.Close)
	for _, name := range []string{"employee-directory", "document-archive"} {
		p, err := startFlexProxy(name, flexRoot)
		if err != nil {
			return nil, err
		}
		s.proxies[name] = p
		s.closers = append(s.closers, p.Close)
	}

	s.oneflow, err = ofsandbox.Start(ofsandbox.Options{})
	if err != nil {
		return nil, fmt.Errorf("oneflow sandbox: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.oneflow.Close() })

	dcfg, err := employeedirectory.Load(map[string]string{
		"EMPLOYEE_DIRECTORY_ADDR":   "127.0.0.1:0",
		"NATS_URL":                  srv.ClientURL(),
		"FLEXHRM_API_ROOT":          s.proxies["employee-directory"].URL(),
		"FLEXHRM_CREDENTIALS":       flex.Credentials(),
		"EMPLOYEE_DIRECTORY_TOKENS": benchDirectoryToken,
	})
	if err != nil {
		return nil, err
	}
	if s.directory, err = employeedirectory.Start(ctx, dcfg, logger); err != nil {
		return nil, fmt.Errorf("employee-directory: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.directory.Close() })
	select {
	case <-s.directory.Ready():
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, errors.New("employee-directory not ready")
	}

	oneflowEnv := map[string]string{
		"NATS_URL":           srv.ClientURL(),
		"FLEXFLOW_DATA_DIR":  s.dir,
		"ONEFLOW_API_URL":    s.oneflow.APIURL(),
		"ONEFLOW_API_TOKEN":  s.oneflow.APIToken(),
		"ONEFLOW_USER_EMAIL": s.oneflow.UserEmail(),
		"OPERATOR_TOKENS":    benchOperatorToken,
	}
	aenv := map[string]string{
		"DOCUMENT_ARCHIVE_ADDR": "127.0.0.1:0",
		"FLEXHRM_API_ROOT":      s.proxies["document-archive"].URL(),
		"FLEXHRM_CREDENTIALS":   flex.Credentials(),
	}
	for k, v := range oneflowEnv {
		aenv[k] = v
	}
	acfg, err := documentarchive.Load(aenv)
	if err != nil {
		return nil, err
	}
	if s.archive, err = documentarchive.Start(ctx, acfg, logger); err != nil {
		return nil, fmt.Errorf("document-archive: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.archive.Close() })

	cenv := map[string]string{
		"CONTRACT_SYNC_ADDR":       "127.0.0.1:0",
		"ONEFLOW_SIGN_KEY":         s.oneflow.SignKey(),
		"EMPLOYEE_DIRECTORY_ADDR":  s.directory.Addr(),
		"EMPLOYEE_DIRECTORY_TOKEN": benchDirectoryToken,
		"DOCUMENT_ARCHIVE_ADDR":    s.archive.Addr(),
		"OPERATOR_TOKEN":           benchOperatorToken,
	}
	for k, v := range oneflowEnv {
		cenv[k] = v
	}
	ccfg, err := contractsync.LoadConfig(config.WithEnvironment(cenv))
	if err != nil {
		return nil, err
	}
	if s.sync, err = contractsync.Start(ctx, ccfg, logger); err != nil {
		return nil, fmt.Errorf("contract-sync: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.sync.Close() })

	if s.gw, err = gateway.Start(ctx, gateway.Config{
		Addr: "127.0.0.1:0", EmployeeDirectoryAddr: s.directory.Addr(), ContractSyncAddr: s.sync.Addr(),
		DocumentArchiveAddr: s.archive.Addr(), ShutdownTimeout: 5 * time.Second,
	}, logger); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.closers = append(s.closers, func() { _ = s.gw.Close() })
	s.oneflow.SetWebhookURL(s.gw.URL() + "/v1/webhooks/oneflow")

	if s.conn, err = grpc.NewClient(s.sync.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = s.conn.Close() })
	s.client = contractsyncv1.NewContractSyncServiceClient(s.conn)
	return s, nil
}

// operator carries the operator token for contract-sync's read API.
func operator(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+benchOperatorToken)
}

// Close stops everything in reverse order.
func (s *system) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// addEmployees adds n employees of company A with what the email template
// needs (work email, mobile, the seeded manager), numbered from first.
func addEmployees(flex *flexsandbox.Server, n, first int) ([]benchEmployee, error) {
	out := make([]benchEmployee, 0, n)
	str := func(s string) *string { return &s }
	for i := range n {
		num := first + i
		e, err := flex.AddEmployee(flexsandbox.Employee{
			CompanyID: flexsandbox.CompanyA, FirstName: str("Kim" + strconv.Itoa(num)), LastName: str("Bench"),
			EmailWork: str(fmt.Sprintf("kim%d.bench@example.se", num)), Phone4: str(fmt.Sprintf("+46709%06d", num)),
			AddressRow2: str("Storgatan " + strconv.Itoa(num)), PostalCode: str("11122"), City: str("Stockholm"),
			Country: str("Sverige"), ImmediateManagerEmployeeID: str(flexsandbox.EmployeeMaria),
			Employment: []flexsandbox.Employment{{EmploymentNumber: strconv.Itoa(num)}},
		})
		if err != nil {
			return nil, fmt.Errorf("add employee %d: %w", num, err)
		}
		out = append(out, benchEmployee{ID: e.ID, Number: strconv.Itoa(num)})
	}
	return out, nil
}

type benchEmployee struct {
	ID, Number string
}
