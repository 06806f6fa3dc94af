// Package service wires the gateway: configuration, backend connections, the
// edge handler and the HTTP(S) server. cmd/gateway and in-process tests start
// it through Start or Run.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/flexflow/flexflow/gateway/internal/edge"
)

// Config is the gateway's configuration, read from the environment.
type Config struct {
	// Addr is where the edge listens (GATEWAY_ADDR).
	Addr string `env:"GATEWAY_ADDR" envDefault:"127.0.0.1:8080"`
	// EmployeeDirectoryAddr is employee-directory's gRPC address.
	EmployeeDirectoryAddr string `env:"EMPLOYEE_DIRECTORY_ADDR" envDefault:"127.0.0.1:9091"`
	// ContractSyncAddr is contract-sync's gRPC address.
	ContractSyncAddr string `env:"CONTRACT_SYNC_ADDR" envDefault:"127.0.0.1:9092"`
	// DocumentArchiveAddr is document-archive's gRPC address.
	DocumentArchiveAddr string `env:"DOCUMENT_ARCHIVE_ADDR" envDefault:"127.0.0.1:9093"`
	// TLSCertFile and TLSKeyFile switch the edge to HTTPS (both or neither).
	TLSCertFile string `env:"GATEWAY_TLS_CERT_FILE"`
	TLSKeyFile  string `env:"GATEWAY_TLS_KEY_FILE"`
	// ShutdownTimeout bounds the graceful drain of in-flight requests.
	ShutdownTimeout time.Duration `env:"GATEWAY_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	// Listener, when set, is served instead of listening on Addr: tests
	// that must know the edge's URL before it starts hand one in.
	Listener net.Listener `env:"-"`
}

// Validate reports the first setting that cannot work, naming its variable.
func (c Config) Validate() error {
	for name, v := range map[string]string{
		"GATEWAY_ADDR":            c.Addr,
		"EMPLOYEE_DIRECTORY_ADDR": c.EmployeeDirectoryAddr,
		"CONTRACT_SYNC_ADDR":      c.ContractSyncAddr,
		"DOCUMENT_ARCHIVE_ADDR":   c.DocumentArchiveAddr,
	} {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("%s: invalid address %q: want host:port", name, v)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE must be set together")
	}
	return nil
}

// Gateway is a running edge.
type Gateway struct {
	srv    *http.Server
	lis    net.Listener
	conns  []*grpc.ClientConn
	tls    bool
	done   chan error
	logger *slog.Logger
	cfg    Config
}

// Start validates cfg, connects to the backends and starts serving; it
// returns once the listener is bound.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Gateway, error) {
	if logger == nil {
		return nil, errors.New("gateway: logger is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{logger: logger, cfg: cfg, done: make(chan error, 1)}
	dial := func(addr string) (*grpc.ClientConn, error) {
		// dns:/// with round_robin spreads calls over every address a name
		// resolves to (a headless Kubernetes Service), not one connection.
		conn, err := grpc.NewClient("dns:///"+addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
			grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		)
		if err == nil {
			g.conns = append(g.conns, conn)
		}
		return conn, err
	}
	var b edge.Backends
	var err error
	var ed, cs, da *grpc.ClientConn
	if ed, err = dial(cfg.EmployeeDirectoryAddr); err != nil {
		return nil, g.closeConns(fmt.Errorf("EMPLOYEE_DIRECTORY_ADDR: %w", err))
	}
	if cs, err = dial(cfg.ContractSyncAddr); err != nil {
		return nil, g.closeConns(fmt.Errorf("CONTRACT_SYNC_ADDR: %w", err))
	}
	if da, err = dial(cfg.DocumentArchiveAddr); err != nil {
		return nil, g.closeConns(fmt.Errorf("DOCUMENT_ARCHIVE_ADDR: %w", err))
	}
	b = edge.Backends{EmployeeDirectory: ed, ContractSync: cs, DocumentArchive: da}
	handler, err := edge.New(ctx, edge.Options{Backends: b, Logger: logger})
	if err != nil {
		return nil, g.closeConns(err)
	}
	g.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.TLSCertFile != "" {
		reloader, err := edge.NewCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, g.closeConns(err)
		}
		g.srv.TLSConfig = reloader.TLSConfig()
		g.tls = true
	}
	lis := cfg.Listener
	if lis == nil {
		if lis, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, g.closeConns(fmt.Errorf("GATEWAY_ADDR: %w", err))
		}
	}
	g.lis = lis
	go func() {
		var err error
		if g.tls {
			err = g.srv.ServeTLS(lis, "", "")
		} else {
			err = g.srv.Serve(lis)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		g.done <- err
	}()
	logger.Info("gateway listening", "addr", lis.Addr().String(), "tls", g.tls)
	return g, nil
}

func (g *Gateway) closeConns(err error) error {
	for _, c := range g.conns {
		_ = c.Close()
	}
	return err
}

// Addr is the bound listen address.
func (g *Gateway) Addr() string { return g.lis.Addr().String() }

// URL is the edge's base URL.
func (g *Gateway) URL() string {
	scheme := "http"
	if g.tls {
		scheme = "https"
	}
	return scheme + "://" + g.Addr()
}

// Close drains in-flight requests (bounded by ShutdownTimeout) and closes the
// backend connections.
func (g *Gateway) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer cancel()
	err := g.srv.Shutdown(ctx)
	if serveErr := <-g.done; err == nil {
		err = serveErr
	}
	return g.closeConns(err)
}

// Run serves until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	g, err := Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return g.Close()
	case err := <-g.done:
		g.done <- err
		_ = g.Close()
		return err
	}
}
