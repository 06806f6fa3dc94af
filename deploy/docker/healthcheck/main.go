// Command healthcheck is the probe that `docker compose` runs inside
// flexflow's images. They are distroless (no shell, no curl, no
// grpc_health_probe), so the images carry this small static binary instead.
// It exits 0 when a gRPC server reports SERVING on the standard health
// service, or an HTTP endpoint answers 2xx; 1 when it does not; 2 on bad
// usage. Kubernetes does not need it: its native gRPC and HTTP probes do the
// same from the kubelet.
//
//	healthcheck grpc 127.0.0.1:9091
//	healthcheck http http://127.0.0.1:8080/healthz
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Exit codes.
const (
	exitHealthy   = 0
	exitUnhealthy = 1
	exitUsage     = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

// run checks what args name and returns the process exit code; problems are
// written to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "deadline for the check")
	service := fs.String("service", "", "gRPC health service name (empty: the server as a whole)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: healthcheck [-timeout 3s] [-service name] grpc HOST:PORT | http URL")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 2 || *timeout <= 0 {
		fs.Usage()
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	kind, target := fs.Arg(0), fs.Arg(1)
	var err error
	switch kind {
	case "grpc":
		err = checkGRPC(ctx, target, *service)
	case "http":
		err = checkHTTP(ctx, target)
	default:
		fs.Usage()
		return exitUsage
	}
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return exitUnhealthy
	}
	return exitHealthy
}

// checkGRPC asks the grpc.health.v1 service at addr and wants SERVING.
func checkGRPC(ctx context.Context, addr, service string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("grpc %s: %w", addr, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return fmt.Errorf("grpc %s: %w", addr, err)
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("grpc %s: %s", addr, st)
	}
	return nil
}

// checkHTTP GETs url and wants a 2xx status.
func checkHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("http %s: %s", req.URL.Redacted(), resp.Status)
	}
	return nil
}
