// Package natsx is flexflow's one NATS connect path: connect to NATS_URL, or
// run an embedded nats-server with JetStream (file store under the data
// directory) when it is empty, and create streams, consumers and KV buckets
// idempotently at start.
package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configure Connect.
type Options struct {
	// URL is NATS_URL: one or more comma-separated server URLs. Empty starts
	// an embedded server.
	URL string
	// DataDir is FLEXFLOW_DATA_DIR; the embedded server keeps its JetStream
	// files under <DataDir>/nats. Required when URL is empty.
	DataDir string
	// Name identifies this client to the server (shown in monitoring).
	Name string
	// Logger receives connection events and the embedded server's log
	// (required).
	Logger *slog.Logger
	// Replicas is how many copies streams and buckets should have on an
	// external cluster (0 means 1). Callers pass Conn.Replicas into their
	// stream configurations; the embedded server only supports 1.
	Replicas int
	// ServerName names the embedded server (default "flexflow-embedded").
	ServerName string
	// EmbeddedListen is the embedded server's client address, "host:port";
	// empty means a random port on 127.0.0.1. The server also listens there
	// so the nats CLI can inspect it.
	EmbeddedListen string
	// DrainTimeout bounds Close's drain (default 10s).
	DrainTimeout time.Duration
	// NoWait returns from Connect at once even while NATS_URL cannot be
	// reached yet, for a process that can do without NATS for a while
	// (employee-directory shares only best-effort notices over it).
	NoWait bool
}

// Conn is a NATS connection with its JetStream context and, when embedded,
// the server it runs.
type Conn struct {
	NC *nats.Conn
	JS jetstream.JetStream
	// Server is the embedded server, nil when connected to NATS_URL.
	Server *server.Server
	// Replicas is the replica count streams and buckets should use.
	Replicas int

	logger *slog.Logger
	closed chan struct{}
}

// Connect connects as Options say. With a URL it keeps retrying the first
// connection until ctx ends (so a service may start before NATS) and then
// reconnects forever, buffering publishes while disconnected.
func Connect(ctx context.Context, opts Options) (*Conn, error) {
	if opts.Logger == nil {
		return nil, errors.New("natsx: Options.Logger is required")
	}
	replicas := opts.Replicas
	if replicas == 0 {
		replicas = 1
	}
	if replicas < 0 || replicas > 5 {
		return nil, fmt.Errorf("natsx: replicas must be 1 to 5, not %d", opts.Replicas)
	}
	drain := opts.DrainTimeout
	if drain <= 0 {
		drain = 10 * time.Second
	}
	c := &Conn{Replicas: replicas, logger: opts.Logger, closed: make(chan struct{})}

	natsOpts := []nats.Option{
		nats.Name(opts.Name),
		nats.DrainTimeout(drain),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			opts.Logger.Warn("nats disconnected", slog.Any("error", err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			opts.Logger.Info("nats reconnected", slog.String("server", nc.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{slog.Any("error", err)}
			if sub != nil {
				attrs = append(attrs, slog.String("subject", sub.Subject))
			}
			opts.Logger.Error("nats async error", attrs...)
		}),
	}

	if opts.URL == "" {
		if replicas != 1 {
			return nil, fmt.Errorf("natsx: the embedded server keeps one copy; replicas %d needs NATS_URL", replicas)
		}
		if opts.DataDir == "" {
			return nil, errors.New("natsx: DataDir is required for the embedded server (NATS_URL is empty)")
		}
		name := opts.ServerName
		if name == "" {
			name = "flexflow-embedded"
		}
		srv, err := startServer(ctx, ServerOptions{
			Listen: opts.EmbeddedListen, DataDir: opts.DataDir, ServerName: name, Logger: opts.Logger,
		})
		if err != nil {
			return nil, err
		}
		c.Server = srv
		// In-process: no TCP hop between the service and its own server.
		natsOpts = append(natsOpts, nats.InProcessServer(srv), nats.MaxReconnects(-1))
		nc, err := nats.Connect("", natsOpts...)
		if err != nil {
			shutdown(srv)
			return nil, fmt.Errorf("natsx: connect to embedded server: %w", err)
		}
		c.NC = nc
		opts.Logger.Info("nats embedded server started",
			slog.String("client_url", srv.ClientURL()), slog.String("store_dir", srv.StoreDir()))
	} else {
		connected := make(chan struct{})
		natsOpts = append(natsOpts,
			nats.MaxReconnects(-1),
			nats.ReconnectWait(time.Second),
			nats.ReconnectJitter(500*time.Millisecond, time.Second),
			nats.ReconnectBufSize(16*1024*1024),
			nats.RetryOnFailedConnect(true),
			nats.ConnectHandler(func(*nats.Conn) { close(connected) }),
		)
		nc, err := nats.Connect(opts.URL, natsOpts...)
		if err != nil {
			return nil, fmt.Errorf("natsx: connect to NATS_URL: %w", err)
		}
		if !nc.IsConnected() && opts.NoWait {
			opts.Logger.Warn("nats not reachable yet, retrying in the background")
		} else if !nc.IsConnected() {
			opts.Logger.Warn("nats not reachable yet, retrying")
			select {
			case <-connected:
			case <-ctx.Done():
				nc.Close()
				return nil, fmt.Errorf("natsx: connect to NATS_URL: %w", ctx.Err())
			}
		}
		c.NC = nc
		if nc.IsConnected() {
			opts.Logger.Info("nats connected", slog.String("server", nc.ConnectedUrlRedacted()))
		}
	}

	js, err := jetstream.New(c.NC)
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("natsx: jetstream: %w", err)
	}
	c.JS = js
	return c, nil
}

// Close drains the connection (in-flight messages are handled, pending
// publishes flushed), then shuts the embedded server down and waits for it.
func (c *Conn) Close() error {
	var errs []error
	if c.NC != nil && !c.NC.IsClosed() {
		if err := c.NC.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("natsx: drain: %w", err))
			c.NC.Close()
		}
	}
	if c.NC != nil {
		<-c.closed // the ClosedHandler runs when the drain finishes or times out
	}
	if c.Server != nil {
		shutdown(c.Server)
	}
	return errors.Join(errs...)
}

// ServerOptions configure RunServer.
type ServerOptions struct {
	// Listen is the client address "host:port"; empty: a random port on
	// 127.0.0.1.
	Listen string
	// DataDir holds the JetStream files, under <DataDir>/nats (required).
	DataDir string
	// ServerName must be unique within a cluster.
	ServerName string
	// ClusterName joins servers into a JetStream cluster; empty runs alone.
	ClusterName string
	// ClusterListen is the route address "host:port"; empty with a
	// ClusterName means a random port on 127.0.0.1.
	ClusterListen string
	// Routes are other members' route addresses ("host:port" or
	// "nats-route://host:port").
	Routes []string
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
}

// RunServer starts a nats-server with JetStream and waits until it accepts
// connections (ctx bounds the wait). The caller stops it with Shutdown and
// WaitForShutdown; RunServer starts no goroutine of its own.
func RunServer(ctx context.Context, opts ServerOptions) (*server.Server, error) {
	return startServer(ctx, opts)
}

func startServer(ctx context.Context, opts ServerOptions) (*server.Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("natsx: DataDir is required")
	}
	host, port, err := splitListen(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("natsx: listen address: %w", err)
	}
	so := &server.Options{
		ServerName: opts.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(opts.DataDir, "nats"),
		NoSigs:     true, // the service owns signal handling
	}
	if opts.ClusterName != "" || opts.ClusterListen != "" || len(opts.Routes) > 0 {
		if opts.ClusterName == "" || opts.ServerName == "" {
			return nil, errors.New("natsx: a cluster member needs ClusterName and a unique ServerName")
		}
		chost, cport, err := splitListen(opts.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("natsx: cluster listen address: %w", err)
		}
		so.Cluster = server.ClusterOpts{Name: opts.ClusterName, Host: chost, Port: cport}
		for _, r := range opts.Routes {
			if !strings.Contains(r, "://") {
				r = "nats-route://" + r
			}
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("natsx: route %q: %w", r, err)
			}
			so.Routes = append(so.Routes, u)
		}
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("natsx: configure server: %w", err)
	}
	if opts.Logger != nil {
		srv.SetLoggerV2(&serverLogger{l: opts.Logger.With(slog.String("component", "nats-server"))}, false, false, false)
	}
	srv.Start()

	wait := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	if !srv.ReadyForConnections(wait) {
		shutdown(srv)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("natsx: server not ready: %w", ctx.Err())
		}
		return nil, errors.New("natsx: server not ready for connections (port in use or store directory unusable; see its log)")
	}
	return srv, nil
}

func shutdown(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}

// splitListen turns "host:port" into nats-server's Host and Port; empty
// means 127.0.0.1 and a random port (-1).
func splitListen(addr string) (string, int, error) {
	if addr == "" {
		return "127.0.0.1", -1, nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: want host:port", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port must be 0-65535", addr)
	}
	if port == 0 {
		port = -1 // nats-server's "random"; 0 would mean its default 4222
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// serverLogger forwards nats-server's log to slog.
type serverLogger struct{ l *slog.Logger }

func (s *serverLogger) Noticef(format string, v ...any) { s.l.Info(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Fatalf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Errorf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Debugf(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s *serverLogger) Tracef(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
