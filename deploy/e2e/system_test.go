package e2e

// The whole system as separate processes, started the way `make run` starts
// it (runner.Build), with handles the fault tests need: each process by name
// to kill and restart, the sandboxes' knobs and logs, the operator API, and
// a NATS connection to count what JetStream holds.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/flexflow/flexflow/deploy/internal/runner"
	"github.com/flexflow/flexflow/deploy/internal/stack"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
)

// chaosEnabled reports whether the long fault runs were asked for
// (`make test-chaos` sets FLEXFLOW_CHAOS=1).
func chaosEnabled() bool { return os.Getenv("FLEXFLOW_CHAOS") == "1" }

// requireChaos skips a long fault test outside `make test-chaos`.
func requireChaos(t *testing.T) {
	t.Helper()
	if !chaosEnabled() {
		t.Skip("long fault test: run `make test-chaos` (FLEXFLOW_CHAOS=1)")
	}
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// flexflowServices are flexflow's own processes, the ones the chaos loop kills.
var flexflowServices = []string{"employee-directory", "contract-sync", "document-archive", "gateway"}

// systemOptions shape one run of the whole system.
type systemOptions struct {
	// ServiceEnv is added to every flexflow service's environment (retry
	// budgets, ack waits and the like, shortened for the test).
	ServiceEnv map[string]string
	// OneflowSandboxArgs are extra flags for the Oneflow sandbox.
	OneflowSandboxArgs []string
	// NATSCluster starts three flexflow-nats processes as one JetStream
	// cluster (streams and buckets with 3 replicas) instead of one.
	NATSCluster bool
	// OneflowProxy routes the services' Oneflow API calls through a fault
	// proxy in the test process (the sandbox has no random-failure knob).
	OneflowProxy bool
}

// system is a running flexflow with its sandboxes.
type system struct {
	t       *testing.T
	env     map[string]string
	secrets map[string]string
	logs    *syncBuffer

	mu    sync.Mutex
	procs map[string]*stack.Process
	order []*stack.Process

	gatewayURL    string
	oneflowURL    string
	flexURL       string
	operatorToken string
	signKey       string
	natsURLs      []string
	natsNodes     []string // process names of the NATS nodes

	proxy *faultProxy
	// syncRetries counts GetContractSync calls answered Unavailable and
	// asked again during the final checks.
	syncRetries atomic.Int64

	conn    *grpc.ClientConn
	aconn   *grpc.ClientConn
	sync    contractsyncv1.ContractSyncServiceClient
	archive documentarchivev1.DocumentArchiveServiceClient
	nc      *nats.Conn
	js      jetstream.JetStream
	httpc   *http.Client
}

// startSystem starts NATS, both sandboxes, the three services and the
// gateway as processes from FLEXFLOW_BIN, and stops them when the test ends.
func startSystem(t *testing.T, opts systemOptions) *system {
	t.Helper()
	bin := binDir(t, "flexflow-nats", "flexhrm-sandbox", "oneflow-sandbox",
		"employee-directory", "contract-sync", "document-archive", "gateway")
	env := map[string]string{
		"GATEWAY_ADDR":            freeAddr(t),
		"EMPLOYEE_DIRECTORY_ADDR": freeAddr(t),
		"CONTRACT_SYNC_ADDR":      freeAddr(t),
		"DOCUMENT_ARCHIVE_ADDR":   freeAddr(t),
		"FLEXFLOW_NATS_LISTEN":    freeAddr(t),
		"FLEXHRM_SANDBOX_LISTEN":  freeAddr(t),
		"ONEFLOW_SANDBOX_LISTEN":  freeAddr(t),
	}
	dataDir := t.TempDir()
	s := &system{
		t: t, env: env, logs: &syncBuffer{}, procs: map[string]*stack.Process{},
		gatewayURL: "http://" + env["GATEWAY_ADDR"],
		oneflowURL: "http://" + env["ONEFLOW_SANDBOX_LISTEN"],
		flexURL:    "http://" + env["FLEXHRM_SANDBOX_LISTEN"],
		httpc:      &http.Client{Timeout: 60 * time.Second},
	}

	var natsSpecs []stack.Spec
	if opts.NATSCluster {
		var clients, routes []string
		for i := 0; i < 3; i++ {
			clients = append(clients, freeAddr(t))
			routes = append(routes, freeAddr(t))
		}
		for i := 0; i < 3; i++ {
			var others []string
			for j := range routes {
				if j != i {
					others = append(others, routes[j])
				}
			}
			name := fmt.Sprintf("nats-%d", i+1)
			natsSpecs = append(natsSpecs, stack.Spec{
				Name: name, Path: filepath.Join(bin, "flexflow-nats"),
				Args: []string{"-listen", clients[i], "-data", filepath.Join(dataDir, name), "-server-name", name,
					"-cluster-name", "flexflow-chaos", "-cluster-listen", routes[i], "-routes", strings.Join(others, ",")},
				Env:   os.Environ(),
				Ready: stack.TCPReady(clients[i]),
			})
			s.natsURLs = append(s.natsURLs, "nats://"+clients[i])
			s.natsNodes = append(s.natsNodes, name)
		}
		// The runner validates NATS_URL as one URL; the services get the
		// whole list below.
		env["NATS_URL"] = s.natsURLs[0]
	} else {
		s.natsURLs = []string{"nats://" + env["FLEXFLOW_NATS_LISTEN"]}
		s.natsNodes = []string{"nats"}
	}

	secrets, err := runner.LoadOrCreateSecrets(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	s.secrets = secrets
	s.operatorToken = strings.Split(secrets["OPERATOR_TOKENS"], ",")[0]
	s.signKey = secrets["ONEFLOW_SIGN_KEY"]
	plan, err := runner.Build(runner.Inputs{Env: env, BinDir: bin, DataDir: dataDir, Secrets: secrets,
		OneflowSandboxArgs: opts.OneflowSandboxArgs})
	if err != nil {
		t.Fatal(err)
	}

	extra := map[string]string{}
	for k, v := range opts.ServiceEnv {
		extra[k] = v
	}
	if opts.NATSCluster {
		extra["NATS_URL"] = strings.Join(s.natsURLs, ",")
		extra["NATS_REPLICAS"] = "3"
	}
	if opts.OneflowProxy {
		s.proxy = startFaultProxy(t, s.oneflowURL)
		extra["ONEFLOW_API_URL"] = s.proxy.URL() + runner.OneflowSandboxRoot
	}
	specs := append([]stack.Spec(nil), natsSpecs...)
	for _, spec := range plan.Specs {
		if isService(spec.Name) {
			spec.Env = stack.EnvWith(spec.Env, extra)
		}
		specs = append(specs, spec)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(s.stop)
	// Cluster members start together: each waits for its peers' routes.
	if len(natsSpecs) > 0 {
		var wg sync.WaitGroup
		errs := make([]error, len(natsSpecs))
		for i, spec := range natsSpecs {
			p := s.add(spec)
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = p.Start(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("%v\n%s", err, s.logTail(80))
			}
		}
		s.connectNATS(ctx)
		s.waitJetStream(ctx)
	}
	for _, spec := range specs[len(natsSpecs):] {
		p := s.add(spec)
		if err := p.Start(ctx); err != nil {
			t.Fatalf("%v\n%s", err, s.logTail(80))
		}
		if spec.Name == "nats" {
			s.connectNATS(ctx)
		}
	}

	s.conn, err = grpc.NewClient(env["CONTRACT_SYNC_ADDR"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	s.aconn, err = grpc.NewClient(env["DOCUMENT_ARCHIVE_ADDR"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	s.sync = contractsyncv1.NewContractSyncServiceClient(s.conn)
	s.archive = documentarchivev1.NewDocumentArchiveServiceClient(s.aconn)
	return s
}

func isService(name string) bool {
	for _, n := range flexflowServices {
		if n == name {
			return true
		}
	}
	return false
}

func (s *system) add(spec stack.Spec) *stack.Process {
	p := stack.NewProcess(spec, s.logs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[spec.Name] = p
	s.order = append(s.order, p)
	return p
}

func (s *system) proc(name string) *stack.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[name]
	if p == nil {
		s.t.Fatalf("no process %q", name)
	}
	return p
}

// stop stops every process in reverse start order and closes the clients;
// a failed test shows the end of the stack's output.
func (s *system) stop() {
	if s.t.Failed() {
		s.t.Logf("last lines of the stack's output:\n%s", s.logTail(60))
		name := strings.NewReplacer("/", "_", " ", "_").Replace(s.t.Name())
		if f, err := os.CreateTemp("", "flexflow-e2e-"+name+"-*.log"); err == nil {
			_, _ = f.WriteString(s.logs.String())
			f.Close()
			s.t.Logf("the stack's whole output: %s", f.Name())
		}
	}
	if s.conn != nil {
		s.conn.Close()
	}
	if s.aconn != nil {
		s.aconn.Close()
	}
	if s.nc != nil {
		s.nc.Close()
	}
	s.mu.Lock()
	order := append([]*stack.Process(nil), s.order...)
	s.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		_ = order[i].Stop(10 * time.Second)
	}
}

// logTail returns the last n lines the stack printed.
func (s *system) logTail(n int) string {
	lines := strings.Split(s.logs.String(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kill ends a process at once (SIGKILL), as a crash would.
func (s *system) kill(name string) { s.proc(name).Kill() }

// restart starts a killed process again and waits until it serves.
func (s *system) restart(ctx context.Context, name string) error {
	return s.proc(name).Start(ctx)
}

func (s *system) connectNATS(ctx context.Context) {
	s.t.Helper()
	nc, err := nats.Connect(strings.Join(s.natsURLs, ","), nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond),
		nats.Name("e2e-observer"))
	if err != nil {
		s.t.Fatalf("connect to NATS: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		s.t.Fatal(err)
	}
	s.nc, s.js = nc, js
}

// waitJetStream waits until the cluster has elected a meta leader.
func (s *system) waitJetStream(ctx context.Context) {
	s.t.Helper()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := s.js.AccountInfo(cctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("JetStream cluster not ready: %v\n%s", err, s.logTail(60))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// streamMessages is how many messages a stream holds.
func (s *system) streamMessages(ctx context.Context, stream string) (uint64, error) {
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// waitIdle waits until every consumer of the webhook and event streams has
// nothing pending and nothing unacknowledged, twice in a row a second apart,
// and the Oneflow sandbox has no delivery pending: the system has finished
// what it was given.
func (s *system) waitIdle(ctx context.Context) error {
	quiet := 0
	var last string
	for quiet < 2 {
		busy, err := s.busyConsumers(ctx)
		if err == nil && busy == "" {
			quiet++
		} else {
			quiet = 0
			last = busy
			if err != nil {
				last = err.Error()
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("system did not go idle: %s", last)
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (s *system) busyConsumers(ctx context.Context) (string, error) {
	var busy []string
	for _, name := range []string{"FLEXFLOW_WEBHOOKS", "FLEXFLOW_EVENTS"} {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := s.js.Stream(cctx, name)
		if err != nil {
			cancel()
			return "", err
		}
		lister := st.ListConsumers(cctx)
		for info := range lister.Info() {
			if info.NumPending > 0 || info.NumAckPending > 0 {
				busy = append(busy, fmt.Sprintf("%s pending %d, unacked %d", info.Name, info.NumPending, info.NumAckPending))
			}
		}
		err = lister.Err()
		cancel()
		if err != nil {
			return "", err
		}
	}
	return strings.Join(busy, "; "), nil
}

// authed adds the operator token to a gRPC call's context.
func (s *system) authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.operatorToken)
}

// call sends a JSON request and decodes a JSON answer; it returns the
// status (0 when no answer came).
func (s *system) call(ctx context.Context, method, url string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.httpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, url, err)
		}
	}
	return resp.StatusCode, nil
}

// oneflow calls the Oneflow sandbox's app actions and knobs.
func (s *system) oneflow(ctx context.Context, method, path string, body, out any) error {
	_, err := s.call(ctx, method, s.oneflowURL+path, body, out)
	return err
}

// flex calls the Flex HRM sandbox's knobs.
func (s *system) flex(ctx context.Context, method, path string, body, out any) error {
	_, err := s.call(ctx, method, s.flexURL+path, body, out)
	return err
}

// must fails the test on a knob or action that did not work.
func (s *system) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// oneflowRequest is one entry of the Oneflow sandbox's request log.
type oneflowRequest struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Route  string    `json:"route"`
	Status int       `json:"status"`
}

// flexRequest is one entry of the Flex HRM sandbox's request log.
type flexRequest struct {
	Seq      int       `json:"seq"`
	Time     time.Time `json:"time"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	PathID   string    `json:"pathId"`
	Status   int       `json:"status"`
	Injected string    `json:"injected"`
}

func (s *system) oneflowRequests(ctx context.Context) []oneflowRequest {
	s.t.Helper()
	var out []oneflowRequest
	s.must(s.oneflow(ctx, http.MethodGet, "/_sandbox/requests", nil, &out))
	return out
}

func (s *system) flexRequests(ctx context.Context) []flexRequest {
	s.t.Helper()
	var out []flexRequest
	s.must(s.flex(ctx, http.MethodGet, "/_sandbox/requests", nil, &out))
	return out
}

// flexState is the part of the Flex HRM sandbox's state the tests read.
type flexState struct {
	Employees []struct {
		ID        string  `json:"id"`
		FirstName *string `json:"firstName"`
		LastName  *string `json:"lastName"`
		City      *string `json:"city"`
	} `json:"employees"`
	EmploymentPeriods []struct {
		ID         string `json:"id"`
		EmployeeID string `json:"employeeId"`
		FromDate   string `json:"fromDate"`
	} `json:"employmentPeriods"`
	Documents []struct {
		ID                 string `json:"id"`
		EmployeeID         string `json:"employeeId"`
		Title              string `json:"title"`
		DocumentCategoryID string `json:"documentCategoryId"`
		SHA256             string `json:"sha256"`
	} `json:"documents"`
}

func (s *system) flexState(ctx context.Context) flexState {
	s.t.Helper()
	var st flexState
	s.must(s.flex(ctx, http.MethodGet, "/_sandbox/state", nil, &st))
	return st
}

// oneflowContract is the part of a sandbox contract the tests read.
type oneflowContract struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	Private struct {
		Name string `json:"name"`
	} `json:"_private"`
	DataFields []struct {
		Value            string `json:"value"`
		PrivateOwnerside struct {
			CustomID string `json:"custom_id"`
		} `json:"_private_ownerside"`
	} `json:"data_fields"`
	Parties []struct {
		ID           int64 `json:"id"`
		MyParty      bool  `json:"my_party"`
		Participants []struct {
			ID        int64  `json:"id"`
			Email     string `json:"email"`
			Signatory bool   `json:"signatory"`
		} `json:"participants"`
	} `json:"parties"`
}

func (c oneflowContract) field(customID string) string {
	for _, f := range c.DataFields {
		if f.PrivateOwnerside.CustomID == customID {
			return f.Value
		}
	}
	return ""
}

func (s *system) oneflowContracts(ctx context.Context) map[int64]oneflowContract {
	s.t.Helper()
	var st struct {
		Contracts []oneflowContract `json:"contracts"`
	}
	s.must(s.oneflow(ctx, http.MethodGet, "/_sandbox/state", nil, &st))
	out := map[int64]oneflowContract{}
	for _, c := range st.Contracts {
		out[c.ID] = c
	}
	return out
}

// failures lists the failed contracts through ListFailures.
func (s *system) failures(ctx context.Context) ([]*contractsyncv1.ContractFailure, error) {
	var all []*contractsyncv1.ContractFailure
	token := ""
	for page := 0; page < 100; page++ {
		resp, err := s.sync.ListFailures(s.authed(ctx), &contractsyncv1.ListFailuresRequest{PageSize: 500, PageToken: token})
		if err != nil {
			return nil, err
		}
		all = append(all, resp.GetFailures()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return all, nil
}

// jitter returns a random duration in [lo, hi).
func jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}
