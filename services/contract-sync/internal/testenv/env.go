package testenv

import (
	"context"
	"errors"
	gateway "github.com/flexflow/flexflow/gateway/service"
	"log/slog"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/flexflow/flexflow/libs/config"
	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/oneflow"
	ofsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
	"github.com/flexflow/flexflow/services/contract-sync/service"
	daservice "github.com/flexflow/flexflow/services/document-archive/service"
	edservice "github.com/flexflow/flexflow/services/employee-directory/service"
)

// Tokens the environment configures.
const (
	OperatorToken  = "operator-token-for-tests"
	DirectoryToken = "directory-token-for-tests"
	Partitions     = 4
)

// Options adjust an Env.
type Options struct {
	// Configure changes the service configuration before start.
	Configure func(*service.Config)
	// DuplicateDeliveries makes the Oneflow sandbox send every webhook this
	// many times.
	DuplicateDeliveries int
	// DirectoryEmployeeCacheTTL is employee-directory's employee cache (0:
	// off, so every flow reads Flex HRM as a new employee would).
	DirectoryEmployeeCacheTTL time.Duration
	// Archive also starts document-archive in-process and gives
	// contract-sync an operator token for it (replay asks it directly).
	Archive bool
	// Logger for the service (default: discard).
	Logger *slog.Logger
}

// Env is a running set of real parts.
type Env struct {
	T        testing.TB
	NATS     *server.Server
	NC       *nats.Conn
	JS       jetstream.JetStream
	Oneflow  *ofsandbox.Server
	Flex     *flexsandbox.Server
	Service  *service.Service
	Client   contractsyncv1.ContractSyncServiceClient
	Config   service.Config
	EdgeURL  string
	conn     *grpc.ClientConn
	edge     *gateway.Gateway
	cancelFn context.CancelFunc
}

// StartNATS runs an embedded JetStream server on a loopback port.
func StartNATS(t testing.TB) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatalf("nats: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// New starts NATS, both sandboxes, the directory, contract-sync and the real
// gateway, which the Oneflow sandbox sends its signed webhooks to.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Env{T: t}
	e.NATS = StartNATS(t)
	nc, err := nats.Connect(e.NATS.ClientURL())
	if err != nil {
		t.Fatalf("nats connect: %v", err)
	}
	e.NC = nc
	t.Cleanup(nc.Close)
	e.JS, _ = jetstream.New(nc)

	e.Flex = flexsandbox.New(flexsandbox.DefaultSeed())
	flexRoot, err := e.Flex.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("flex sandbox: %v", err)
	}
	t.Cleanup(func() {
		start := time.Now()
		e.Flex.Close()
		if d := time.Since(start); d > time.Second {
			t.Logf("flex sandbox closed in %v", d)
		}
	})
	flexURL, _ := url.Parse(flexRoot)
	dcfg := edservice.Config{
		Addr:                  "127.0.0.1:0",
		FlexHRMAPIRoot:        config.URL{URL: flexURL},
		FlexHRMCredentials:    e.Flex.Credentials(),
		Tokens:                config.Tokens{DirectoryToken},
		EmployeeCacheTTL:      opts.DirectoryEmployeeCacheTTL,
		ReferenceCacheTTL:     time.Minute,
		FlexHRMRequestTimeout: 5 * time.Second,
		FlexHRMRetryBudget:    500 * time.Millisecond,
		FlexHRMRetryInitial:   50 * time.Millisecond,
		FlexHRMCheckInterval:  time.Second,
		ShutdownTimeout:       5 * time.Second,
	}
	dir, err := edservice.Start(context.Background(), dcfg, logger)
	if err != nil {
		t.Fatalf("employee-directory: %v", err)
	}
	t.Cleanup(func() {
		start := time.Now()
		_ = dir.Close()
		if d := time.Since(start); d > time.Second {
			t.Logf("employee-directory closed in %v", d)
		}
	})
	dirAddr := dir.Addr()
	select {
	case <-dir.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("employee-directory not ready")
	}
	// Tests count Flex HRM calls from here on; the start-up check is not
	// contract-sync's.
	e.Flex.ClearRequests()

	// The edge listens first so the Oneflow sandbox knows where to send.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("edge listen: %v", err)
	}
	e.EdgeURL = "http://" + lis.Addr().String() + "/v1/webhooks/oneflow"
	e.Oneflow, err = ofsandbox.Start(ofsandbox.Options{
		WebhookURL: e.EdgeURL, TimeScale: 0.001, DuplicateDeliveries: opts.DuplicateDeliveries,
	})
	if err != nil {
		t.Fatalf("oneflow sandbox: %v", err)
	}
	t.Cleanup(func() {
		start := time.Now()
		// A bounded shutdown: connections a test left half-open (requests
		// it made time out on purpose) need not hold the test for the
		// server's 5 s grace.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_ = e.Oneflow.Shutdown(ctx)
		if d := time.Since(start); d > time.Second {
			t.Logf("oneflow sandbox closed in %v", d)
		}
	})

	apiURL, _ := url.Parse(e.Oneflow.APIURL())
	archiveAddr := ""
	if opts.Archive {
		acfg := daservice.Config{
			Addr: "127.0.0.1:0", NATSURL: e.NATS.ClientURL(), NATSReplicas: 1, DataDir: t.TempDir(),
			FlexHRMAPIRoot: config.URL{URL: flexURL}, FlexHRMCredentials: e.Flex.Credentials(),
			OneflowAPIURL: config.URL{URL: apiURL}, OneflowAPIToken: e.Oneflow.APIToken(), OneflowUserEmail: e.Oneflow.UserEmail(),
			OperatorTokens: config.Tokens{OperatorToken},
			RetryBudget:    5 * time.Second, RetryInitial: 100 * time.Millisecond, RetryMax: time.Second,
			Workers: 2, MaxAckPending: 16, AckWait: 5 * time.Second, LeaseTTL: 5 * time.Second,
		}
		archive, err := daservice.Start(context.Background(), acfg, logger)
		if err != nil {
			t.Fatalf("document-archive: %v", err)
		}
		t.Cleanup(func() { _ = archive.Close() })
		archiveAddr = archive.Addr()
	}
	cfg := service.Config{
		Addr:                   "127.0.0.1:0",
		OneflowAPIURL:          config.URL{URL: apiURL},
		OneflowAPIToken:        e.Oneflow.APIToken(),
		OneflowUserEmail:       e.Oneflow.UserEmail(),
		OneflowSignKey:         e.Oneflow.SignKey(),
		NATSURL:                e.NATS.ClientURL(),
		NATSReplicas:           1,
		DataDir:                t.TempDir(),
		WebhookPartitions:      Partitions,
		EmployeeDirectoryAddr:  dirAddr,
		EmployeeDirectoryToken: DirectoryToken,
		OperatorTokens:         config.Tokens{OperatorToken},
		EmployeeTokens:         config.Tokens{DirectoryToken},
		TemplateTypeName:       "Flex HRM",
		RetryBudget:            3 * time.Second,
		RetryBaseDelay:         200 * time.Millisecond,
		RetryMaxDelay:          time.Second,
		InlineAttempts:         2,
		InlineBaseDelay:        20 * time.Millisecond,
		AckWait:                2 * time.Second,
		MaxDeliver:             10,
		MaxInFlight:            Partitions,
		Workers:                true,
		OneflowRequestTimeout:  5 * time.Second,
		OneflowRetryMaxElapsed: 500 * time.Millisecond,
		ShutdownTimeout:        5 * time.Second,
		TracerProvider:         sdktrace.NewTracerProvider(),
	}
	if archiveAddr != "" {
		cfg.DocumentArchiveAddr = archiveAddr
		cfg.OperatorToken = OperatorToken
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	e.Config = cfg
	ctx, cancel := context.WithCancel(context.Background())
	e.cancelFn = cancel
	e.Service, err = service.Start(ctx, cfg, logger)
	if err != nil {
		t.Fatalf("contract-sync: %v", err)
	}
	t.Cleanup(func() {
		start := time.Now()
		_ = e.Service.Close()
		cancel()
		if d := time.Since(start); d > time.Second {
			t.Logf("contract-sync closed in %v", d)
		}
	})
	e.conn, err = grpc.NewClient(e.Service.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = e.conn.Close() })
	e.Client = contractsyncv1.NewContractSyncServiceClient(e.conn)

	edgeArchive := archiveAddr
	if edgeArchive == "" {
		edgeArchive = "127.0.0.1:1" // no document-archive in this environment
	}
	e.edge, err = gateway.Start(context.Background(), gateway.Config{
		Addr: lis.Addr().String(), Listener: lis, EmployeeDirectoryAddr: dirAddr,
		ContractSyncAddr: e.Service.Addr(), DocumentArchiveAddr: edgeArchive, ShutdownTimeout: 5 * time.Second,
	}, logger)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	t.Cleanup(func() { _ = e.edge.Close() })
	return e
}

// ToRequest converts a decoded notification to the gRPC request.
func ToRequest(n oneflow.Notification) *contractsyncv1.ReceiveOneflowWebhookRequest {
	req := &contractsyncv1.ReceiveOneflowWebhookRequest{
		Contract: &contractsyncv1.OneflowContractRef{Id: n.Contract.ID}, CallbackId: n.CallbackID, Signature: n.Signature,
	}
	for _, ev := range n.Events {
		req.Events = append(req.Events, &contractsyncv1.OneflowEvent{Id: ev.ID, Type: ev.Type, CreatedTime: ev.CreatedTime})
	}
	return req
}

// Operator returns ctx carrying the operator token.
func Operator(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+OperatorToken)
}

// Sync reads a contract's sync state and log.
func (e *Env) Sync(id int64) *contractsyncv1.GetContractSyncResponse {
	e.T.Helper()
	resp, err := e.Client.GetContractSync(Operator(context.Background()), &contractsyncv1.GetContractSyncRequest{ContractId: id})
	if err != nil {
		e.T.Fatalf("GetContractSync: %v", err)
	}
	return resp
}

// Idle waits until every webhook the sandbox sent is answered and every
// partition consumer has nothing pending, twice in a row (a flow's writes
// cause echo webhooks).
func (e *Env) Idle() {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	quiet := 0
	began := time.Now()
	defer func() {
		if d := time.Since(began); d > 2*time.Second {
			e.T.Logf("idle after %v", d)
		}
	}()
	for quiet < 3 {
		t0 := time.Now()
		if err := e.Oneflow.WaitForDeliveries(ctx); err != nil {
			e.T.Fatalf("waiting for webhook deliveries: %v", err)
		}
		if d := time.Since(t0); d > time.Second {
			e.T.Logf("webhook deliveries took %v", d)
		}
		busy := false
		for p := range Partitions {
			cons, err := e.JS.Consumer(ctx, "FLEXFLOW_WEBHOOKS", domain.ConsumerName(p))
			if err != nil {
				e.T.Fatalf("consumer: %v", err)
			}
			info, err := cons.Info(ctx)
			if err != nil {
				e.T.Fatalf("consumer info: %v", err)
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				busy = true
				if time.Since(began) > 2*time.Second && quiet == 0 {
					e.T.Logf("partition %d: pending %d, ack pending %d, waiting %d", p, info.NumPending, info.NumAckPending, info.NumWaiting)
				}
			}
		}
		if busy {
			quiet = 0
		} else {
			quiet++
		}
		select {
		case <-ctx.Done():
			e.T.Fatal("contract-sync did not become idle")
		case <-time.After(30 * time.Millisecond):
		}
	}
}

// Eventually polls cond until it holds or 15 s pass.
func (e *Env) Eventually(what string, cond func() bool) {
	e.T.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart stops contract-sync and starts it again on the same NATS, as a
// crash-and-restart would (the state lives in JetStream).
func (e *Env) Restart(configure func(*service.Config)) {
	e.T.Helper()
	if err := e.Service.Close(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		e.T.Logf("close: %v", err)
	}
	cfg := e.Config
	addr := e.Service.Addr()
	cfg.Addr = config.ListenAddr(addr)
	if configure != nil {
		configure(&cfg)
	}
	var err error
	e.Service, err = service.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		e.T.Fatalf("restart: %v", err)
	}
	e.T.Cleanup(func() { _ = e.Service.Close() })
}
