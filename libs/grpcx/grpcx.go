// Package grpcx builds flexflow's gRPC servers and clients the same way
// everywhere: the standard health service, reflection (so grpcurl works),
// otelgrpc tracing, bearer-token authorization, panic recovery and a log
// line per call, and a Serve that stops gracefully when its context ends.
package grpcx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/telemetry"
)

// Options configure NewServer.
type Options struct {
	// Logger receives one line per call and recovered panics (required).
	Logger *slog.Logger
	// Auth decides who may call what (required; auth.OpenPolicy() for a
	// server without authenticated methods).
	Auth *auth.Policy
	// UnaryInterceptors and StreamInterceptors run after the standard ones
	// (logging, recovery, auth), closest to the handler.
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
	// ExtraOptions are appended to the server's options (message size
	// limits, keepalive, credentials).
	ExtraOptions []grpc.ServerOption
	// ShutdownTimeout bounds the graceful stop in Serve before in-flight
	// calls are cut off (default 10s).
	ShutdownTimeout time.Duration
}

// Server is a gRPC server with flexflow's standard services and
// interceptors. Register services on it (it is a grpc.ServiceRegistrar),
// then call Serve.
type Server struct {
	grpc            *grpc.Server
	health          *health.Server
	logger          *slog.Logger
	shutdownTimeout time.Duration
}

// NewServer builds a server with health (grpc.health.v1), reflection (v1
// and v1alpha) and the otelgrpc stats handler registered, and the
// interceptor chain logging → panic recovery → auth → Options' own.
func NewServer(opts Options) (*Server, error) {
	if opts.Logger == nil {
		return nil, errors.New("grpcx: Options.Logger is required")
	}
	if opts.Auth == nil {
		return nil, errors.New("grpcx: Options.Auth is required (auth.OpenPolicy() for a server without authentication)")
	}
	timeout := opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	logger := opts.Logger
	unary := append([]grpc.UnaryServerInterceptor{
		unaryLogging(logger), unaryRecovery(logger), opts.Auth.UnaryInterceptor(),
	}, opts.UnaryInterceptors...)
	stream := append([]grpc.StreamServerInterceptor{
		streamLogging(logger), streamRecovery(logger), opts.Auth.StreamInterceptor(),
	}, opts.StreamInterceptors...)

	serverOpts := append(telemetry.GRPCServerOptions(),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	)
	serverOpts = append(serverOpts, opts.ExtraOptions...)

	s := &Server{
		grpc:            grpc.NewServer(serverOpts...),
		health:          health.NewServer(),
		logger:          logger,
		shutdownTimeout: timeout,
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc) // registers both v1 and v1alpha
	return s, nil
}

// RegisterService registers a service implementation; generated
// Register...Server functions call it.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
}

// GRPC returns the underlying server, for what this type does not cover.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Health returns the health service so the service can report a dependency
// outage (SetServingStatus(name, NOT_SERVING)); Serve sets every registered
// service and the overall status "" to SERVING when it starts.
func (s *Server) Health() *health.Server { return s.health }

// Serve serves on lis until ctx ends, then marks every service NOT_SERVING
// (so probes and balancers stop sending), lets in-flight calls finish for up
// to Options.ShutdownTimeout, and stops. It returns nil after a shutdown
// caused by ctx, or the error that ended serving otherwise.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.grpc.Serve(lis) }()
	s.logger.Info("grpc server listening", slog.String("addr", lis.Addr().String()))

	select {
	case err := <-serveErr:
		s.health.Shutdown()
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpcx: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}

	s.logger.Info("grpc server stopping")
	s.health.Shutdown() // every status NOT_SERVING, and stays so
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.shutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.logger.Warn("grpc graceful stop timed out, cutting off remaining calls",
			slog.Duration("timeout", s.shutdownTimeout))
		s.grpc.Stop()
		<-stopped
	}
	<-serveErr
	s.logger.Info("grpc server stopped")
	return nil
}

// Dial creates a client connection to target with the otelgrpc stats
// handler and plaintext transport (flexflow's services talk over loopback
// or a mesh); opts come last, so a caller may pass TLS credentials or
// WithBearerToken. Like grpc.NewClient it does not connect until the first
// call.
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	all := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, telemetry.GRPCDialOptions()...)
	all = append(all, opts...)
	conn, err := grpc.NewClient(target, all...)
	if err != nil {
		return nil, fmt.Errorf("grpcx: dial %s: %w", target, err)
	}
	return conn, nil
}

// WithBearerToken sends token as "authorization: Bearer <token>" on every
// call; it works over plaintext loopback (see auth.BearerCredentials).
func WithBearerToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(auth.BearerCredentials(token))
}

// quietMethod reports calls logged at debug level only: probes and tools
// run often and say nothing about the service's work.
func quietMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// serverFault reports codes that mean the server, not the caller, failed.
func serverFault(c codes.Code) bool {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

func logCall(ctx context.Context, logger *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelInfo
	switch {
	case quietMethod(method) && err == nil:
		level = slog.LevelDebug
	case serverFault(code):
		level = slog.LevelError
	case err != nil:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		// The message is what the caller sees; the logger's redactor scrubs
		// it like any other attribute.
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	logger.LogAttrs(ctx, level, "grpc call", attrs...)
}

func unaryLogging(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logCall(ctx, logger, info.FullMethod, start, err)
		return resp, err
	}
}

func streamLogging(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logCall(ss.Context(), logger, info.FullMethod, start, err)
		return err
	}
}

// errInternal is what a caller sees after a panic: nothing of the panic
// value, which may hold personal data.
var errInternal = status.Error(codes.Internal, "internal error")

func logPanic(ctx context.Context, logger *slog.Logger, method string, p any) {
	logger.ErrorContext(ctx, "panic in grpc handler",
		slog.String("method", method),
		slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())),
	)
}

func unaryRecovery(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				logPanic(ctx, logger, info.FullMethod, p)
				resp, err = nil, errInternal
			}
		}()
		return handler(ctx, req)
	}
}

func streamRecovery(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				logPanic(ss.Context(), logger, info.FullMethod, p)
				err = errInternal
			}
		}()
		return handler(srv, ss)
	}
}
