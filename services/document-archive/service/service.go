// Package service wires document-archive: configuration from the
// environment, NATS, the vendor clients, the event consumer and the gRPC
// server. Run serves until its context ends; Start returns a handle so tests
// and deploy/e2e can run the service in-process.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/grpcx"
	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/telemetry"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/adapters"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
	"github.com/flexflow/flexflow/services/document-archive/internal/ports"
)

// Name is the service's name in traces, logs and the sync log.
const Name = "document-archive"

// Config is document-archive's configuration. Every field has an
// environment variable; Load reads them and stops the service at start
// naming a missing or invalid one.
type Config struct {
	// Addr is where the gRPC server listens.
	Addr config.ListenAddr `env:"DOCUMENT_ARCHIVE_ADDR" envDefault:"127.0.0.1:9093"`
	// NATSURL is the NATS cluster; empty runs an embedded server with
	// JetStream under DataDir.
	NATSURL string `env:"NATS_URL"`
	// NATSReplicas is the replica count of streams and buckets.
	NATSReplicas int `env:"NATS_REPLICAS" envDefault:"1"`
	// DataDir holds the embedded server's files.
	DataDir string `env:"FLEXFLOW_DATA_DIR" envDefault:"./.flexflow"`

	FlexHRMAPIRoot config.URL `env:"FLEXHRM_API_ROOT,required"`
	// FlexHRMCredentials is base64 of customer_number:username:password.
	FlexHRMCredentials string     `env:"FLEXHRM_CREDENTIALS,required" secret:"true"`
	OneflowAPIURL      config.URL `env:"ONEFLOW_API_URL" envDefault:"https://api.oneflow.com/v1"`
	OneflowAPIToken    string     `env:"ONEFLOW_API_TOKEN,required" secret:"true"`
	OneflowUserEmail   string     `env:"ONEFLOW_USER_EMAIL,required" secret:"true"`
	// OperatorTokens are the bearer tokens accepted on every method.
	OperatorTokens config.Tokens `env:"OPERATOR_TOKENS,required" secret:"true"`

	// RetryBudget is how long transient upstream failures are retried
	// before the contract is marked failed (at least 2h in production).
	RetryBudget time.Duration `env:"DOCUMENT_ARCHIVE_RETRY_BUDGET" envDefault:"2h"`
	// RetryInitial and RetryMax bound the growing delay between attempts.
	RetryInitial time.Duration `env:"DOCUMENT_ARCHIVE_RETRY_INITIAL" envDefault:"5s"`
	RetryMax     time.Duration `env:"DOCUMENT_ARCHIVE_RETRY_MAX" envDefault:"10m"`
	// Workers is how many events are archived at once.
	Workers int `env:"DOCUMENT_ARCHIVE_WORKERS" envDefault:"4"`
	// MaxAckPending bounds the events delivered and not yet acked
	// (including those waiting out a retry delay).
	MaxAckPending int `env:"DOCUMENT_ARCHIVE_MAX_ACK_PENDING" envDefault:"64"`
	// AckWait is how long JetStream waits for an ack or an in-progress
	// signal before redelivering; workers signal every AckWait/3.
	AckWait time.Duration `env:"DOCUMENT_ARCHIVE_ACK_WAIT" envDefault:"2m"`
	// LeaseTTL is how long a killed replica's claim on a job blocks others.
	LeaseTTL time.Duration `env:"DOCUMENT_ARCHIVE_LEASE_TTL" envDefault:"1m"`

	// MaxDocumentBytes overrides Flex HRM's 25 MiB limit; for benchmarks
	// against a sink that accepts more. Zero keeps the limit.
	MaxDocumentBytes int64
	// Hooks are test-only interventions; zero in production.
	Hooks Hooks
}

// Hooks let tests simulate crashes at the point that matters.
type Hooks struct {
	// AfterUpload runs after a successful upload and before it is
	// recorded; an error stops the job there without an ack, as a crash
	// would (block until ctx ends to simulate a kill and Close).
	AfterUpload func(ctx context.Context) error
}

// Load reads Config from the environment (env may replace it in tests).
func Load(env map[string]string) (Config, error) {
	var cfg Config
	var opts []config.Option
	if env != nil {
		opts = append(opts, config.WithEnvironment(env))
	}
	if err := config.Load(&cfg, opts...); err != nil {
		return Config{}, err
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	var errs []error
	check := func(ok bool, v, reason string) {
		if !ok {
			errs = append(errs, fmt.Errorf("config: %s: %s", v, reason))
		}
	}
	check(c.RetryBudget > 0, "DOCUMENT_ARCHIVE_RETRY_BUDGET", "must be positive")
	check(c.RetryInitial > 0, "DOCUMENT_ARCHIVE_RETRY_INITIAL", "must be positive")
	check(c.RetryMax >= c.RetryInitial, "DOCUMENT_ARCHIVE_RETRY_MAX", "must be at least DOCUMENT_ARCHIVE_RETRY_INITIAL")
	check(c.Workers >= 1, "DOCUMENT_ARCHIVE_WORKERS", "must be at least 1")
	check(c.MaxAckPending > c.Workers, "DOCUMENT_ARCHIVE_MAX_ACK_PENDING", "must be above DOCUMENT_ARCHIVE_WORKERS so retries waiting out a delay do not stop other contracts")
	check(c.AckWait >= 3*time.Millisecond, "DOCUMENT_ARCHIVE_ACK_WAIT", "must be positive")
	check(c.LeaseTTL >= 3*time.Millisecond, "DOCUMENT_ARCHIVE_LEASE_TTL", "must be positive")
	check(c.NATSReplicas >= 1 && c.NATSReplicas <= 5, "NATS_REPLICAS", "must be 1 to 5")
	check(c.FlexHRMAPIRoot.URL != nil, "FLEXHRM_API_ROOT", "is required")
	check(c.OneflowAPIURL.URL != nil, "ONEFLOW_API_URL", "is required")
	check(strings.TrimSpace(c.OneflowAPIToken) != "", "ONEFLOW_API_TOKEN", "is required")
	check(strings.TrimSpace(c.OneflowUserEmail) != "", "ONEFLOW_USER_EMAIL", "is required")
	check(len(c.OperatorTokens) > 0, "OPERATOR_TOKENS", "needs at least one token")
	return errors.Join(errs...)
}

// Service is a running document-archive.
type Service struct {
	logger   *slog.Logger
	conn     *natsx.Conn
	listener net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
}

// Start connects, creates streams, buckets and the consumer, and starts
// consuming and serving gRPC. ctx bounds the start only; Close stops it.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Service, error) {
	if logger == nil {
		return nil, errors.New("service: logger is nil")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	creds, err := flexhrm.ParseCredentials(cfg.FlexHRMCredentials)
	if err != nil {
		return nil, fmt.Errorf("config: FLEXHRM_CREDENTIALS: %w", err)
	}
	tokens, err := auth.NewTokenSet(cfg.OperatorTokens)
	if err != nil {
		return nil, fmt.Errorf("config: OPERATOR_TOKENS: %w", err)
	}
	policy, err := auth.NewPolicy(map[string]auth.Kind{
		"/" + documentarchivev1.DocumentArchiveService_ServiceDesc.ServiceName + "/": auth.KindOperator,
	}, map[auth.Kind]auth.TokenSet{auth.KindOperator: tokens})
	if err != nil {
		return nil, fmt.Errorf("service: auth policy: %w", err)
	}
	oneflowClient, err := oneflow.New(oneflow.Options{BaseURL: cfg.OneflowAPIURL.URL.String(), Token: cfg.OneflowAPIToken, UserEmail: cfg.OneflowUserEmail, Logger: logger,
		Transport: adapters.LengthRecordingTransport(nil)})
	if err != nil {
		return nil, fmt.Errorf("config: ONEFLOW_*: %w", err)
	}

	conn, err := natsx.Connect(ctx, natsx.Options{URL: cfg.NATSURL, DataDir: cfg.DataDir, Name: Name, Logger: logger, Replicas: cfg.NATSReplicas})
	if err != nil {
		return nil, fmt.Errorf("service: NATS: %w", err)
	}
	s := &Service{logger: logger, conn: conn}
	fail := func(err error) (*Service, error) {
		_ = conn.Close()
		return nil, err
	}
	// Flex HRM limits the account, which employee-directory uses too: the
	// two tell each other of every 429 (see flexhrm.PacingPolicy.Peers).
	refusals, err := natsx.NewRefusals(conn.NC, flexhrm.RateLimitKey(creds), logger)
	if err != nil {
		return fail(fmt.Errorf("service: %w", err))
	}
	flexClient, err := flexhrm.New(flexhrm.Options{APIRoot: cfg.FlexHRMAPIRoot.URL.String(), Credentials: creds, Logger: logger,
		Pacing: flexhrm.PacingPolicy{Peers: refusals}})
	if err != nil {
		return fail(fmt.Errorf("config: FLEXHRM_API_ROOT/FLEXHRM_CREDENTIALS: %w", err))
	}
	if err := refusals.Listen(flexClient.PeerRefused); err != nil {
		return fail(fmt.Errorf("service: %w", err))
	}
	if err := adapters.EnsureTopology(ctx, conn.JS, conn.Replicas); err != nil {
		return fail(fmt.Errorf("service: %w", err))
	}
	documents, err := conn.JS.KeyValue(ctx, adapters.DocumentsBucket)
	if err != nil {
		return fail(fmt.Errorf("service: bucket %s: %w", adapters.DocumentsBucket, err))
	}
	failuresKV, err := conn.JS.KeyValue(ctx, adapters.FailuresBucket)
	if err != nil {
		return fail(fmt.Errorf("service: bucket %s: %w", adapters.FailuresBucket, err))
	}
	settings := ports.ConsumerSettings{Workers: cfg.Workers, MaxAckPending: cfg.MaxAckPending, AckWait: cfg.AckWait, BusyDelay: min(cfg.LeaseTTL/2, time.Second)}
	consumer, err := natsx.EnsureConsumer(ctx, conn.JS, adapters.EventsStream, ports.ConsumerConfig(settings))
	if err != nil {
		return fail(fmt.Errorf("service: consumer %s: %w", ports.ConsumerName, err))
	}

	records, err := adapters.NewKVRecords(documents)
	if err != nil {
		return fail(err)
	}
	lease, err := adapters.NewKVLease(documents, cfg.LeaseTTL, logger)
	if err != nil {
		return fail(err)
	}
	failures, err := adapters.NewKVFailures(failuresKV, documents)
	if err != nil {
		return fail(err)
	}
	syncLog, err := adapters.NewJetStreamSyncLog(conn.JS)
	if err != nil {
		return fail(err)
	}
	oneflowPort, err := adapters.NewOneflow(oneflowClient)
	if err != nil {
		return fail(err)
	}
	flexPort, err := adapters.NewFlexHRM(flexClient)
	if err != nil {
		return fail(err)
	}
	archiver, err := app.NewArchiver(oneflowPort, flexPort, records, syncLog, failures, lease, logger, app.Options{
		Retry:            domain.RetryPolicy{Initial: cfg.RetryInitial, Max: cfg.RetryMax, Budget: cfg.RetryBudget},
		MaxDocumentBytes: cfg.MaxDocumentBytes,
		AfterUpload:      cfg.Hooks.AfterUpload,
	})
	if err != nil {
		return fail(err)
	}
	lister, err := app.NewLister(records)
	if err != nil {
		return fail(err)
	}
	tracer := otel.Tracer("github.com/flexflow/flexflow/services/document-archive")
	events, err := ports.NewEventConsumer(consumer, archiver, syncLog, logger, tracer, settings)
	if err != nil {
		return fail(err)
	}
	grpcPort, err := ports.NewGRPCServer(archiver, lister)
	if err != nil {
		return fail(err)
	}

	srv, err := grpcx.NewServer(grpcx.Options{Logger: logger, Auth: policy})
	if err != nil {
		return fail(fmt.Errorf("service: gRPC server: %w", err))
	}
	documentarchivev1.RegisterDocumentArchiveServiceServer(srv, grpcPort)
	lis, err := net.Listen("tcp", cfg.Addr.String())
	if err != nil {
		return fail(fmt.Errorf("config: DOCUMENT_ARCHIVE_ADDR: listening on %s: %w", cfg.Addr, err))
	}
	s.listener = lis

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Go(func() {
		if err := srv.Serve(runCtx, lis); err != nil {
			logger.Error("gRPC server stopped", "error", err)
		}
	})
	s.wg.Go(func() { events.Run(runCtx) })
	logger.Info("document-archive started", "addr", lis.Addr().String())
	return s, nil
}

// Addr is the gRPC server's address (useful with DOCUMENT_ARCHIVE_ADDR
// 127.0.0.1:0).
func (s *Service) Addr() string { return s.listener.Addr().String() }

// Close stops consuming (a job in hand is interrupted and nak'd, or left
// unacked for redelivery), stops the gRPC server gracefully, and closes
// NATS.
func (s *Service) Close() error {
	var err error
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		err = s.conn.Close()
	})
	return err
}

// Run starts the service with tracing from the OTEL_* variables and serves
// until ctx ends; then it shuts down and flushes spans.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if logger == nil {
		return errors.New("service: logger is nil")
	}
	tp, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: Name, Logger: logger})
	if err != nil {
		return fmt.Errorf("service: telemetry: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			logger.Warn("flushing spans failed", "error", err)
		}
	}()
	s, err := Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("document-archive stopping")
	return s.Close()
}

// SecretSink is what RegisterSecrets tells the secrets to
// (*telemetry.Redactor), so logs never show them.
type SecretSink interface{ AddSecret(secret string) }

// RegisterSecrets hands every secret of the configuration to sink.
func (c Config) RegisterSecrets(sink SecretSink) {
	sink.AddSecret(c.FlexHRMCredentials)
	if creds, err := flexhrm.ParseCredentials(c.FlexHRMCredentials); err == nil {
		sink.AddSecret(creds.Password)
	}
	sink.AddSecret(c.OneflowAPIToken)
	sink.AddSecret(c.OneflowUserEmail)
	for _, t := range c.OperatorTokens {
		sink.AddSecret(t)
	}
}
