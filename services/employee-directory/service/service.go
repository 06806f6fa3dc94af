// Package service wires employee-directory: configuration from the
// environment, the Flex HRM client, the app layer and the gRPC server with
// authentication, health, reflection and tracing. Run serves until its
// context ends; Start returns a handle so tests and deploy/e2e can run the
// service in-process.
//
// Start-up with a misconfigured Flex HRM: the service starts anyway and
// serves gRPC, but its health stays NOT_SERVING and the log says exactly what
// the start-up check found (wrong root, unknown customer number, rejected
// username or password) until a retried check passes. Refusing to start would
// leave `make run` with a dead port and a restart loop; starting NOT_SERVING
// keeps the process inspectable (grpcurl, health) while load balancers and
// the local runner see it is not ready. Calls made meanwhile fail with
// Unavailable and the same explanation.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
	_ "time/tzdata" // "today" is Swedish even on hosts without a zone database

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/grpcx"
	"github.com/flexflow/flexflow/libs/telemetry"
	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/internal/adapters"
	"github.com/flexflow/flexflow/services/employee-directory/internal/app"
	"github.com/flexflow/flexflow/services/employee-directory/internal/ports"
)

// Name is the service's name in traces and logs.
const Name = "employee-directory"

// serviceName is the gRPC service's full name, also its health check name.
const serviceName = "flexflow.employeedirectory.v1.EmployeeDirectoryService"

// Service is a running employee-directory.
type Service struct {
	logger   *slog.Logger
	cfg      Config
	flex     *flexhrm.Client
	link     *pacingLink
	server   *grpcx.Server
	listener net.Listener
	cancel   context.CancelFunc
	served   chan error // Serve's result
	ready    chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	closeErr error

	mu      sync.Mutex // orders the check's Resume against Close
	closing bool
}

// Start validates cfg, builds the Flex HRM client and the gRPC server, starts
// serving and returns once the listener is bound. The Flex HRM start-up
// check runs in the background (see the package comment); Ready tells when
// it passed. ctx bounds the start only; Close stops the service.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Service, error) {
	if logger == nil {
		return nil, errors.New("service: logger is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	creds, err := flexhrm.ParseCredentials(cfg.FlexHRMCredentials)
	if err != nil {
		return nil, fmt.Errorf("config: FLEXHRM_CREDENTIALS: %w", err)
	}
	policy, err := accessPolicy(cfg)
	if err != nil {
		return nil, err
	}
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return nil, fmt.Errorf("service: time zone Europe/Stockholm: %w", err)
	}
	link, err := linkPacing(ctx, cfg, creds, logger)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			link.close()
		}
	}()
	flexClient, err := flexhrm.New(flexhrm.Options{
		APIRoot:        cfg.FlexHRMAPIRoot.String(),
		Credentials:    creds,
		RequestTimeout: cfg.FlexHRMRequestTimeout,
		Retry:          flexhrm.RetryPolicy{MaxElapsedTime: cfg.FlexHRMRetryBudget, InitialInterval: cfg.FlexHRMRetryInitial},
		Logger:         logger.With("component", "flexhrm"),
		Pacing:         flexhrm.PacingPolicy{Peers: link.peers()},
	})
	if err != nil {
		return nil, fmt.Errorf("config: FLEXHRM_API_ROOT: %w", err)
	}
	if err := link.listen(flexClient.PeerRefused); err != nil {
		return nil, err
	}
	flex, err := adapters.NewFlexHRM(flexClient)
	if err != nil {
		return nil, err
	}
	dir, err := app.New(app.Deps{
		Employees: flex, Periods: flex, Titles: flex, Companies: flex,
		ValidateNationalID: adapters.ValidateNationalID,
		Logger:             logger,
	}, app.Options{
		EmployeeCacheTTL:  cfg.EmployeeCacheTTL,
		ReferenceCacheTTL: cfg.ReferenceCacheTTL,
		Location:          stockholm,
	})
	if err != nil {
		return nil, err
	}
	port, err := ports.NewGRPCServer(dir, logger)
	if err != nil {
		return nil, err
	}
	server, err := grpcx.NewServer(grpcx.Options{Logger: logger, Auth: policy, ShutdownTimeout: cfg.ShutdownTimeout})
	if err != nil {
		return nil, err
	}
	edv1.RegisterEmployeeDirectoryServiceServer(server, port)
	// Health starts NOT_SERVING and stays so until the Flex HRM check
	// passes: the health server is put in its shutdown state, which makes it
	// ignore the SERVING that grpcx.Serve sets, until Resume.
	server.Health().SetServingStatus(serviceName, healthpb.HealthCheckResponse_NOT_SERVING)
	server.Health().Shutdown()

	lis, err := net.Listen("tcp", cfg.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("config: EMPLOYEE_DIRECTORY_ADDR: listening on %s: %w", cfg.Addr, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Service{
		logger:   logger,
		cfg:      cfg,
		flex:     flexClient,
		link:     link,
		server:   server,
		listener: lis,
		cancel:   cancel,
		served:   make(chan error, 1),
		ready:    make(chan struct{}),
	}
	started = true
	go func() { s.served <- server.Serve(runCtx, lis) }()
	s.wg.Go(func() { s.checkFlexHRM(runCtx) })
	logger.Info("employee-directory started", "addr", lis.Addr().String(), "flexhrm_api_root", flexClient.APIRoot(),
		"employee_cache_ttl", cfg.EmployeeCacheTTL.String())
	return s, nil
}

// accessPolicy makes every EmployeeDirectoryService method require an
// "employee" token; health and reflection stay open (libs/auth keeps them so).
func accessPolicy(cfg Config) (*auth.Policy, error) {
	tokens := map[auth.Kind]auth.TokenSet{}
	employee, err := auth.NewTokenSet(cfg.Tokens)
	if err != nil {
		return nil, fmt.Errorf("config: EMPLOYEE_DIRECTORY_TOKENS: %w", err)
	}
	tokens[auth.KindEmployee] = employee
	if len(cfg.OperatorTokens) > 0 {
		operator, err := auth.NewTokenSet(cfg.OperatorTokens)
		if err != nil {
			return nil, fmt.Errorf("config: OPERATOR_TOKENS: %w", err)
		}
		tokens[auth.KindOperator] = operator
	}
	policy, err := auth.NewPolicy(map[string]auth.Kind{"/" + serviceName + "/": auth.KindEmployee}, tokens)
	if err != nil {
		return nil, fmt.Errorf("service: access policy: %w", err)
	}
	return policy, nil
}

// checkFlexHRM runs the Flex HRM start-up check until it passes, then marks
// the service SERVING. Each failure is logged with the client's diagnosis.
func (s *Service) checkFlexHRM(ctx context.Context) {
	interval := s.cfg.FlexHRMCheckInterval
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.FlexHRMRequestTimeout+s.cfg.FlexHRMRetryBudget)
		err := s.flex.Check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			s.markServing()
			s.logger.Info("Flex HRM start-up check passed; serving", "flexhrm_api_root", s.flex.APIRoot(), "attempt", attempt)
			return
		}
		s.logger.Error("Flex HRM start-up check failed; health stays NOT_SERVING and the check is retried",
			"error", err, "hint", checkHint(err), "retry_in", interval.String(), "attempt", attempt)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// checkHint names the variable to fix for a failed start-up check.
func checkHint(err error) string {
	switch {
	case errors.Is(err, flexhrm.ErrBadAPIRoot):
		return "check FLEXHRM_API_ROOT"
	case errors.Is(err, flexhrm.ErrUnknownCustomerNumber):
		return "check the customer number in FLEXHRM_CREDENTIALS"
	case errors.Is(err, flexhrm.ErrUnauthorized):
		return "Flex HRM rejected flexflow's credentials: check FLEXHRM_CREDENTIALS"
	case errors.Is(err, flexhrm.ErrForbidden):
		return "the Flex HRM API user lacks permissions"
	default:
		return "Flex HRM is not answering well; it may recover by itself"
	}
}

// markServing turns health SERVING, unless Close has begun.
func (s *Service) markServing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.server.Health().Resume()
	close(s.ready)
}

// Addr is the gRPC server's bound address (useful with port 0).
func (s *Service) Addr() string { return s.listener.Addr().String() }

// Ready is closed once the Flex HRM start-up check has passed and health
// says SERVING.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Close marks the service NOT_SERVING, stops the start-up check, drains
// in-flight calls (bounded by ShutdownTimeout, then cut) and returns.
func (s *Service) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.cancel()
		s.closeErr = <-s.served
		s.wg.Wait()
		s.link.close()
	})
	return s.closeErr
}

// Run starts the service with tracing from the OTEL_* variables and serves
// until ctx ends; then it shuts down gracefully and flushes spans.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if logger == nil {
		return errors.New("service: logger is nil")
	}
	// The span exporter scrubs the same secrets the caller's logger should.
	redactor := telemetry.NewRedactor()
	cfg.RegisterSecrets(redactor)
	tp, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: Name, Logger: logger, Redactor: redactor})
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
	select {
	case <-ctx.Done():
		logger.Info("employee-directory stopping")
	case err := <-s.served:
		s.served <- err // for Close
		logger.Error("gRPC server stopped on its own", "error", err)
	}
	return s.Close()
}
