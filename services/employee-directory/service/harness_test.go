package service_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/grpcx"
	"github.com/flexflow/flexflow/libs/telemetry"
	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/service"
)

// Tokens the harness configures: an employee-directory caller and an
// operator (the wrong kind here).
const (
	employeeToken = "employee-token-0123456789abcdef"
	operatorToken = "operator-token-0123456789abcdef"
)

// harness is a real Flex HRM sandbox and a real employee-directory talking
// over loopback, and a gRPC client presenting employeeToken.
type harness struct {
	sandbox *sandbox.Server
	svc     *service.Service
	conn    *grpc.ClientConn
	client  edv1.EmployeeDirectoryServiceClient
	cfg     service.Config
}

// testConfig is a Config against apiRoot with short retry budgets so
// failure tests end quickly.
func testConfig(t testing.TB, apiRoot, credentials string) service.Config {
	t.Helper()
	u, err := url.Parse(apiRoot)
	if err != nil {
		t.Fatal(err)
	}
	return service.Config{
		Addr:                  "127.0.0.1:0",
		FlexHRMAPIRoot:        config.URL{URL: u},
		FlexHRMCredentials:    credentials,
		Tokens:                config.Tokens{employeeToken},
		OperatorTokens:        config.Tokens{operatorToken},
		EmployeeCacheTTL:      0,
		ReferenceCacheTTL:     time.Minute,
		FlexHRMRequestTimeout: 5 * time.Second,
		FlexHRMRetryBudget:    400 * time.Millisecond,
		FlexHRMRetryInitial:   10 * time.Millisecond,
		FlexHRMCheckInterval:  50 * time.Millisecond,
		ShutdownTimeout:       5 * time.Second,
	}
}

// testLogger writes to the test log when -v, through the redacting handler
// the service uses in production.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return telemetry.NewLogger(os.Stderr, service.Name, slog.LevelDebug, nil)
	}
	return slog.New(slog.DiscardHandler)
}

// start boots the sandbox and the service; adjust may change the config and
// set sandbox knobs before the service starts.
func start(t testing.TB, adjust func(*service.Config, *sandbox.Server)) *harness {
	t.Helper()
	sb := sandbox.New(sandbox.DefaultSeed())
	if err := sb.Err(); err != nil {
		t.Fatal(err)
	}
	apiRoot, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	cfg := testConfig(t, apiRoot, sb.Credentials())
	if adjust != nil {
		adjust(&cfg, sb)
	}
	svc, err := service.Start(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	conn, err := grpcx.Dial(svc.Addr(), grpcx.WithBearerToken(employeeToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &harness{sandbox: sb, svc: svc, conn: conn, client: edv1.NewEmployeeDirectoryServiceClient(conn), cfg: cfg}
}

// ready waits until the start-up check passed.
func (h *harness) ready(t testing.TB) *harness {
	t.Helper()
	select {
	case <-h.svc.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the Flex HRM start-up check did not pass")
	}
	h.sandbox.ClearRequests()
	return h
}

// health asks the standard health service, without a token.
func (h *harness) health(t testing.TB) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	conn, err := grpc.NewClient(h.svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{
		Service: "flexflow.employeedirectory.v1.EmployeeDirectoryService",
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetStatus()
}

// calls lists the sandbox's served requests as "P1 GET 200" lines.
func (h *harness) calls() []sandbox.RequestRecord { return h.sandbox.Requests() }

// countPath counts requests of one path id and method.
func countPath(recs []sandbox.RequestRecord, pathID, method string) int {
	n := 0
	for _, r := range recs {
		if r.PathID == pathID && r.Method == method {
			n++
		}
	}
	return n
}

// writes are the requests that changed something in the sandbox.
func writes(recs []sandbox.RequestRecord) []sandbox.RequestRecord {
	var out []sandbox.RequestRecord
	for _, r := range recs {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

// badCredentials are well-formed credentials the sandbox rejects.
func badCredentials() string {
	return base64.StdEncoding.EncodeToString([]byte("1001:flexflow-api:wrong-password"))
}

func employeeOf(st sandbox.State, id string) sandbox.Employee {
	i := slices.IndexFunc(st.Employees, func(e sandbox.Employee) bool { return e.ID == id })
	if i < 0 {
		return sandbox.Employee{}
	}
	return st.Employees[i]
}
