package telemetry

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
)

// grpcFilter leaves health checks and reflection out of traces: probes run
// every few seconds and would bury the traces SREs look for.
func grpcFilter() otelgrpc.Filter {
	return filters.None(filters.HealthCheck(), filters.ServicePrefix("grpc.reflection."))
}

// GRPCServerOptions returns the otelgrpc stats handler for a gRPC server; it
// continues the caller's trace from the request metadata. It uses the global
// tracer provider and propagator installed by Setup.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithFilter(grpcFilter()))),
	}
}

// GRPCDialOptions returns the otelgrpc stats handler for a gRPC client; it
// starts a client span per call and puts the trace context into the
// outgoing metadata.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithFilter(grpcFilter()))),
	}
}

// HTTPTransport wraps base (nil: http.DefaultTransport) so every outgoing
// request gets a client span and carries the trace context, as the vendor
// clients need.
func HTTPTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base)
}

// HTTPHandler wraps h so every incoming request gets a server span named
// operation that continues the caller's trace.
func HTTPHandler(h http.Handler, operation string) http.Handler {
	return otelhttp.NewHandler(h, operation)
}
