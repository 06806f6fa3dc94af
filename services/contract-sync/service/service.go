// Package service wires contract-sync: configuration from the environment,
// NATS (external or embedded), the Oneflow client, the employee-directory
// and document-archive clients, the worker, the partitioned consumers, the
// retry scheduler and the gRPC server. Run serves until its context ends;
// Start returns a handle for in-process tests and deploy/e2e.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/telemetry"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/adapters/archive"
	"github.com/flexflow/flexflow/services/contract-sync/internal/adapters/directory"
	"github.com/flexflow/flexflow/services/contract-sync/internal/adapters/natsjs"
	"github.com/flexflow/flexflow/services/contract-sync/internal/adapters/oneflowapi"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
	"github.com/flexflow/flexflow/services/contract-sync/internal/ports"
)

// Name is the service name in traces, logs and sync log entries.
const Name = "contract-sync"

// Config is contract-sync's configuration; LoadConfig fills it from the
// environment. Fields tagged env:"-" are for in-process use only.
type Config struct {
	Addr config.ListenAddr `env:"CONTRACT_SYNC_ADDR" envDefault:"127.0.0.1:9092"`

	OneflowAPIURL    config.URL `env:"ONEFLOW_API_URL,required"`
	OneflowAPIToken  string     `env:"ONEFLOW_API_TOKEN,required" secret:"true"`
	OneflowUserEmail string     `env:"ONEFLOW_USER_EMAIL,required" secret:"true"`
	OneflowSignKey   string     `env:"ONEFLOW_SIGN_KEY,required" secret:"true"`

	// NATSURL empty starts an embedded server under DataDir.
	NATSURL      string `env:"NATS_URL"`
	NATSReplicas int    `env:"NATS_REPLICAS" envDefault:"1"`
	DataDir      string `env:"FLEXFLOW_DATA_DIR" envDefault:"./.flexflow"`
	// WebhookPartitions is the number of webhook partitions (and durable
	// consumers); every service instance must use the same value.
	WebhookPartitions int `env:"WEBHOOK_PARTITIONS" envDefault:"16"`

	EmployeeDirectoryAddr  string `env:"EMPLOYEE_DIRECTORY_ADDR" envDefault:"127.0.0.1:9091"`
	EmployeeDirectoryToken string `env:"EMPLOYEE_DIRECTORY_TOKEN,required" secret:"true"`
	DocumentArchiveAddr    string `env:"DOCUMENT_ARCHIVE_ADDR" envDefault:"127.0.0.1:9093"`
	// OperatorToken is what contract-sync presents to document-archive on
	// replay; empty makes replay re-emit events instead.
	OperatorToken string `env:"OPERATOR_TOKEN" secret:"true"`
	// OperatorTokens are accepted for GetContractSync, ReplayContract and
	// ListFailures.
	OperatorTokens config.Tokens `env:"OPERATOR_TOKENS,required" secret:"true"`
	// EmployeeTokens (optional) are employee-directory's tokens; knowing
	// them lets the operator methods answer PermissionDenied, not
	// Unauthenticated, to a caller presenting one.
	EmployeeTokens config.Tokens `env:"EMPLOYEE_DIRECTORY_TOKENS" secret:"true"`

	TemplateTypeName string `env:"FLEXHRM_TEMPLATE_TYPE_NAME" envDefault:"Flex HRM"`

	// RetryBudget is how long transient failures are retried before a
	// contract fails (at least 2h in production).
	RetryBudget     time.Duration `env:"CONTRACT_SYNC_RETRY_BUDGET" envDefault:"2h15m"`
	RetryBaseDelay  time.Duration `env:"CONTRACT_SYNC_RETRY_BASE_DELAY" envDefault:"30s"`
	RetryMaxDelay   time.Duration `env:"CONTRACT_SYNC_RETRY_MAX_DELAY" envDefault:"15m"`
	InlineAttempts  int           `env:"CONTRACT_SYNC_INLINE_ATTEMPTS" envDefault:"3"`
	InlineBaseDelay time.Duration `env:"CONTRACT_SYNC_INLINE_BASE_DELAY" envDefault:"1s"`
	// RateLimitedInlineWait is how long a flow refused for load keeps
	// waiting in line (honouring Retry-After) before it is parked.
	RateLimitedInlineWait time.Duration `env:"CONTRACT_SYNC_RATE_LIMITED_INLINE_WAIT" envDefault:"2m"`
	// AckWait must exceed the longest upstream call; in-progress acks extend
	// it while a flow runs.
	AckWait time.Duration `env:"CONTRACT_SYNC_ACK_WAIT" envDefault:"60s"`
	// MaxDeliver bounds redeliveries of a message the worker could not even
	// park (NATS itself failing); with naks growing to 30 s, 100 covers
	// about 45 minutes. Work that keeps failing upstream is parked after a
	// few attempts and never gets near it.
	MaxDeliver  int `env:"CONTRACT_SYNC_MAX_DELIVER" envDefault:"100"`
	MaxInFlight int `env:"CONTRACT_SYNC_MAX_IN_FLIGHT" envDefault:"16"`
	// Workers false runs ingest and the API only (an edge-only replica).
	Workers bool `env:"CONTRACT_SYNC_WORKERS" envDefault:"true"`
	// OneflowRequestTimeout bounds one Oneflow call.
	OneflowRequestTimeout time.Duration `env:"ONEFLOW_REQUEST_TIMEOUT" envDefault:"30s"`
	// ShutdownTimeout bounds the graceful drain.
	ShutdownTimeout time.Duration `env:"CONTRACT_SYNC_SHUTDOWN_TIMEOUT" envDefault:"30s"`

	// OneflowRetryMaxElapsed bounds the Oneflow client's own retries of one
	// read; kept short because the partition waits meanwhile, and the long
	// budget is the parking's.
	OneflowRetryMaxElapsed time.Duration `env:"ONEFLOW_RETRY_MAX_ELAPSED" envDefault:"10s"`
	// Redactor scrubs exported spans (Run passes it to telemetry.Setup);
	// RegisterSecrets fills it.
	Redactor *telemetry.Redactor `env:"-"`
	// TracerProvider is used instead of the global one when set.
	TracerProvider trace.TracerProvider `env:"-"`
	// Hooks interrupt flows in tests.
	Hooks app.Hooks `env:"-"`
}

// LoadConfig reads the configuration from the environment, naming every
// missing or invalid variable.
func LoadConfig(opts ...config.Option) (Config, error) {
	var cfg Config
	if err := config.Load(&cfg, opts...); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

// RegisterSecrets tells the log and span redactor about every secret in the
// configuration, so none can reach a log line or a span.
func (c Config) RegisterSecrets(r *telemetry.Redactor) {
	for _, s := range []string{c.OneflowAPIToken, c.OneflowSignKey, c.OneflowUserEmail, c.EmployeeDirectoryToken, c.OperatorToken} {
		r.AddSecret(s)
	}
	for _, s := range append(append([]string(nil), c.OperatorTokens...), c.EmployeeTokens...) {
		r.AddSecret(s)
	}
}

func (c Config) validate() error {
	var errs []error
	if c.WebhookPartitions < 1 || c.WebhookPartitions > 100 {
		errs = append(errs, errors.New("config: WEBHOOK_PARTITIONS: must be 1 to 100"))
	}
	if c.AckWait < 100*time.Millisecond {
		errs = append(errs, errors.New("config: CONTRACT_SYNC_ACK_WAIT: must be at least 100ms"))
	}
	if c.RetryBudget <= 0 {
		errs = append(errs, errors.New("config: CONTRACT_SYNC_RETRY_BUDGET: must be positive"))
	}
	if c.OneflowAPIURL.URL == nil {
		errs = append(errs, errors.New("config: ONEFLOW_API_URL: required"))
	}
	if len(c.OperatorTokens) == 0 {
		errs = append(errs, errors.New("config: OPERATOR_TOKENS: required"))
	}
	return errors.Join(errs...)
}

// Service is a running contract-sync.
type Service struct {
	cfg       Config
	logger    *slog.Logger
	lis       net.Listener
	grpc      *grpc.Server
	health    *health.Server
	nats      *natsx.Conn
	consumers *ports.Consumers
	dirConn   *grpc.ClientConn
	archConn  *grpc.ClientConn
	stopBg    context.CancelFunc
	bg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	store     *natsjs.Store

	oneflowTransport *http.Transport
}

// Run starts the service with telemetry from the OTEL_* environment and
// serves until ctx ends, then shuts down gracefully and flushes spans.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if cfg.TracerProvider == nil {
		tp, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: Name, Logger: logger, Redactor: cfg.Redactor})
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = tp.Shutdown(sctx)
		}()
		cfg.TracerProvider = tp
	}
	s, err := Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}

// Start builds and starts the service; Close stops it.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (s *Service, err error) {
	if logger == nil {
		return nil, errors.New("service.Start: nil logger")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	tracer := tp.Tracer("github.com/flexflow/flexflow/services/contract-sync")
	// Trace context crosses NATS in W3C headers; the propagator is global
	// because otelgrpc and otelhttp read the global too. Setting the same
	// propagator again is harmless.
	otel.SetTextMapPropagator(telemetry.Propagator())
	s = &Service{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	s.nats, err = natsx.Connect(ctx, natsx.Options{
		URL: cfg.NATSURL, DataDir: filepath.Join(cfg.DataDir, "contract-sync"), Name: Name,
		Logger: logger, Replicas: cfg.NATSReplicas,
	})
	if err != nil {
		return nil, err
	}
	if err := natsjs.Ensure(ctx, s.nats.JS, natsjs.Topology{Replicas: s.nats.Replicas}); err != nil {
		return nil, err
	}
	s.store, err = natsjs.Open(ctx, s.nats.JS, cfg.WebhookPartitions, tracer)
	if err != nil {
		return nil, err
	}

	verifier := signatureVerifier{key: cfg.OneflowSignKey}
	ingest, err := app.NewIngest(verifier, s.store, logger)
	if err != nil {
		return nil, err
	}
	queries, err := app.NewQueries(s.store, s.store, s.store, s.store)
	if err != nil {
		return nil, err
	}

	if cfg.Workers {
		if err := s.startWorkers(ctx, cfg, tracer); err != nil {
			return nil, err
		}
	}

	operatorTokens, err := auth.NewTokenSet(cfg.OperatorTokens)
	if err != nil {
		return nil, fmt.Errorf("config: OPERATOR_TOKENS: %w", err)
	}
	tokens := map[auth.Kind]auth.TokenSet{auth.KindOperator: operatorTokens}
	if len(cfg.EmployeeTokens) > 0 {
		employeeTokens, err := auth.NewTokenSet(cfg.EmployeeTokens)
		if err != nil {
			return nil, fmt.Errorf("config: EMPLOYEE_DIRECTORY_TOKENS: %w", err)
		}
		tokens[auth.KindEmployee] = employeeTokens
	}
	policy, err := auth.NewPolicy(ports.Methods(), tokens)
	if err != nil {
		return nil, err
	}
	server, err := ports.NewGRPCServer(ingest, queries, logger)
	if err != nil {
		return nil, err
	}
	opts := append(telemetry.GRPCServerOptions(),
		grpc.ChainUnaryInterceptor(policy.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(policy.StreamInterceptor()),
		grpc.MaxRecvMsgSize(2<<20),
	)
	s.grpc = grpc.NewServer(opts...)
	contractsyncv1.RegisterContractSyncServiceServer(s.grpc, server)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.lis, err = (&net.ListenConfig{}).Listen(ctx, "tcp", string(cfg.Addr))
	if err != nil {
		return nil, fmt.Errorf("listen on CONTRACT_SYNC_ADDR: %w", err)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(contractsyncv1.ContractSyncService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	lis, srv := s.lis, s.grpc
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			logger.Error("grpc serve stopped", slog.String("error", err.Error()))
		}
	}()
	logger.Info("contract-sync started", slog.String("addr", s.lis.Addr().String()),
		slog.Int("partitions", cfg.WebhookPartitions), slog.Bool("workers", cfg.Workers))
	return s, nil
}

func (s *Service) startWorkers(ctx context.Context, cfg Config, tracer trace.Tracer) error {
	// One transport for Oneflow, kept so Close can drop its idle
	// connections; flows write in parallel to one host, so keep more idle
	// connections per host than the default two.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	s.oneflowTransport = transport
	client, err := oneflow.New(oneflow.Options{
		Transport: transport,
		BaseURL:   cfg.OneflowAPIURL.String(), Token: cfg.OneflowAPIToken, UserEmail: cfg.OneflowUserEmail,
		RequestTimeout: cfg.OneflowRequestTimeout, Retry: oneflow.RetryPolicy{MaxElapsedTime: cfg.OneflowRetryMaxElapsed}, Logger: s.logger,
	})
	if err != nil {
		return err
	}
	of, err := oneflowapi.New(client)
	if err != nil {
		return err
	}
	dial := append(telemetry.GRPCDialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	s.dirConn, err = grpc.NewClient(cfg.EmployeeDirectoryAddr, dial...)
	if err != nil {
		return fmt.Errorf("config: EMPLOYEE_DIRECTORY_ADDR: %w", err)
	}
	dir, err := directory.New(s.dirConn, cfg.EmployeeDirectoryToken)
	if err != nil {
		return err
	}
	deps := app.WorkerDeps{
		Oneflow: of, Directory: dir, States: s.store, Callbacks: s.store, SyncLog: s.store,
		Events: s.store, Failures: s.store, Later: s.store, Tracer: tracer, Logger: s.logger,
	}
	if cfg.OperatorToken != "" && cfg.DocumentArchiveAddr != "" {
		s.archConn, err = grpc.NewClient(cfg.DocumentArchiveAddr, dial...)
		if err != nil {
			return fmt.Errorf("config: DOCUMENT_ARCHIVE_ADDR: %w", err)
		}
		arch, err := archive.New(s.archConn, cfg.OperatorToken)
		if err != nil {
			return err
		}
		deps.Archive = arch
	}
	worker, err := app.NewWorker(app.WorkerConfig{
		TemplateTypeName:      cfg.TemplateTypeName,
		InlineAttempts:        cfg.InlineAttempts,
		InlineBaseDelay:       cfg.InlineBaseDelay,
		RateLimitedInlineWait: cfg.RateLimitedInlineWait,
		Retry:                 domain.RetryPolicy{Budget: cfg.RetryBudget, BaseDelay: cfg.RetryBaseDelay, MaxDelay: cfg.RetryMaxDelay},
		Hooks:                 cfg.Hooks,
	}, deps)
	if err != nil {
		return err
	}
	s.consumers, err = ports.NewConsumers(s.nats.JS, worker, s.store, ports.ConsumerConfig{
		Partitions: cfg.WebhookPartitions, AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, MaxInFlight: cfg.MaxInFlight,
	}, tracer, s.logger)
	if err != nil {
		return err
	}
	if err := s.consumers.Start(ctx); err != nil {
		return err
	}
	sched, err := ports.NewRetryScheduler(s.store.Contracts(), s.store, s.logger)
	if err != nil {
		return err
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBg = cancel
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for bgCtx.Err() == nil {
			if err := sched.Run(bgCtx); err != nil && bgCtx.Err() == nil {
				s.logger.Warn("retry scheduler restarting", slog.String("error", err.Error()))
				select {
				case <-bgCtx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return nil
}

// Addr is the gRPC listen address.
func (s *Service) Addr() string {
	if s.lis == nil {
		return ""
	}
	return s.lis.Addr().String()
}

// JetStream exposes the service's JetStream context (tests and e2e inspect
// streams through it).
func (s *Service) JetStream() jetstream.JetStream {
	if s.nats == nil {
		return nil
	}
	return s.nats.JS
}

// Close stops the service gracefully: health goes NOT_SERVING, the gRPC
// server finishes in-flight calls, the consumers drain (in-flight flows
// finish within ShutdownTimeout), then NATS drains.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		timeout := s.cfg.ShutdownTimeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if s.health != nil {
			s.health.Shutdown()
		}
		if s.grpc != nil {
			done := make(chan struct{})
			go func() { s.grpc.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				s.grpc.Stop()
			}
		}
		if s.consumers != nil {
			s.consumers.Stop(ctx)
		}
		if s.stopBg != nil {
			s.stopBg()
		}
		s.bg.Wait()
		var errs []error
		for _, c := range []*grpc.ClientConn{s.dirConn, s.archConn} {
			if c != nil {
				errs = append(errs, c.Close())
			}
		}
		if s.nats != nil {
			errs = append(errs, s.nats.Close())
		}
		if s.oneflowTransport != nil {
			s.oneflowTransport.CloseIdleConnections()
		}
		s.closeErr = errors.Join(errs...)
		s.logger.Info("contract-sync stopped")
	})
	return s.closeErr
}

// signatureVerifier checks webhook signatures with the Oneflow library's
// constant-time comparison.
type signatureVerifier struct{ key string }

// Verify implements app.SignatureVerifier.
func (v signatureVerifier) Verify(callbackID, signature string) bool {
	return oneflow.VerifySignature(callbackID, signature, v.key)
}
