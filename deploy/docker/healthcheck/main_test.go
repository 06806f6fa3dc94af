package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// grpcHealthServer serves the standard health service on loopback with
// the overall status st and returns its address.
func grpcHealthServer(t *testing.T, st healthpb.HealthCheckResponse_ServingStatus) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("", st)
	healthpb.RegisterHealthServer(srv, h)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func httpServer(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args func(t *testing.T) []string
		want int
	}{
		{"a gRPC server reporting SERVING is healthy",
			func(t *testing.T) []string {
				return []string{"grpc", grpcHealthServer(t, healthpb.HealthCheckResponse_SERVING)}
			}, exitHealthy},
		{"a gRPC server reporting NOT_SERVING is unhealthy",
			func(t *testing.T) []string {
				return []string{"grpc", grpcHealthServer(t, healthpb.HealthCheckResponse_NOT_SERVING)}
			}, exitUnhealthy},
		{"a gRPC service name the server does not know is unhealthy",
			func(t *testing.T) []string {
				return []string{"-service", "no.such.Service", "grpc", grpcHealthServer(t, healthpb.HealthCheckResponse_SERVING)}
			}, exitUnhealthy},
		{"nothing listening on the gRPC address is unhealthy",
			func(t *testing.T) []string { return []string{"-timeout", "1s", "grpc", closedAddr(t)} }, exitUnhealthy},
		{"an HTTP 200 is healthy",
			func(t *testing.T) []string { return []string{"http", httpServer(t, http.StatusOK) + "/healthz"} }, exitHealthy},
		{"an HTTP 503 is unhealthy",
			func(t *testing.T) []string {
				return []string{"http", httpServer(t, http.StatusServiceUnavailable) + "/healthz"}
			}, exitUnhealthy},
		{"nothing listening on the HTTP address is unhealthy",
			func(t *testing.T) []string { return []string{"http", "http://" + closedAddr(t) + "/healthz"} }, exitUnhealthy},
		{"an unknown kind is a usage error",
			func(*testing.T) []string { return []string{"tcp", "127.0.0.1:1"} }, exitUsage},
		{"a missing target is a usage error",
			func(*testing.T) []string { return []string{"grpc"} }, exitUsage},
		{"an unknown flag is a usage error",
			func(*testing.T) []string { return []string{"-nope", "grpc", "127.0.0.1:1"} }, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if got := run(context.Background(), tt.args(t), &stderr); got != tt.want {
				t.Errorf("exit code %d, want %d (stderr: %s)", got, tt.want, stderr.String())
			}
		})
	}
}
