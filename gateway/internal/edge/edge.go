// Package edge is the gateway's HTTP surface: grpc-gateway routes to the
// three services, Oneflow's webhook endpoint, the OpenAPI document and a
// health endpoint backed by the services' gRPC health.
package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	employeedirectoryv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"
	"github.com/flexflow/flexflow/proto/gen/go/openapi"
)

// MaxBodyBytes is the largest request body the edge accepts (1 MiB).
const MaxBodyBytes = 1 << 20

// OpenAPIPath is where the generated OpenAPI document is served.
const OpenAPIPath = "/openapi.json"

// Backends are the gRPC connections the edge forwards to, by service.
type Backends struct {
	EmployeeDirectory grpc.ClientConnInterface
	ContractSync      grpc.ClientConnInterface
	DocumentArchive   grpc.ClientConnInterface
}

// Options configure the edge.
type Options struct {
	Backends Backends
	Logger   *slog.Logger
	// HealthTimeout bounds each backend health check behind /healthz.
	HealthTimeout time.Duration
}

// New builds the edge's handler. The webhook route is authenticated by
// Oneflow's signature inside contract-sync; every other route forwards the
// caller's bearer token, which the services check themselves, so a caller
// that bypasses the gateway meets the same check.
func New(ctx context.Context, opts Options) (http.Handler, error) {
	if opts.Backends.EmployeeDirectory == nil || opts.Backends.ContractSync == nil || opts.Backends.DocumentArchive == nil {
		return nil, errors.New("edge: every backend connection is required")
	}
	if opts.Logger == nil {
		return nil, errors.New("edge: logger is required")
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 2 * time.Second
	}
	m := newMarshaler()
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		// Only the bearer token and trace context travel to the backends;
		// other headers (cookies, Oneflow's own) stay at the edge.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
	)
	if err := employeedirectoryv1.RegisterEmployeeDirectoryServiceHandlerClient(ctx, gw,
		employeedirectoryv1.NewEmployeeDirectoryServiceClient(opts.Backends.EmployeeDirectory)); err != nil {
		return nil, fmt.Errorf("edge: register employee-directory routes: %w", err)
	}
	syncClient := contractsyncv1.NewContractSyncServiceClient(opts.Backends.ContractSync)
	if err := contractsyncv1.RegisterContractSyncServiceHandlerClient(ctx, gw, syncClient); err != nil {
		return nil, fmt.Errorf("edge: register contract-sync routes: %w", err)
	}
	if err := documentarchivev1.RegisterDocumentArchiveServiceHandlerClient(ctx, gw,
		documentarchivev1.NewDocumentArchiveServiceClient(opts.Backends.DocumentArchive)); err != nil {
		return nil, fmt.Errorf("edge: register document-archive routes: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", &healthHandler{
		timeout: opts.HealthTimeout,
		backends: []namedHealth{
			{"employee-directory", healthpb.NewHealthClient(opts.Backends.EmployeeDirectory)},
			{"contract-sync", healthpb.NewHealthClient(opts.Backends.ContractSync)},
			{"document-archive", healthpb.NewHealthClient(opts.Backends.DocumentArchive)},
		},
	})
	// /readyz is the webhook path's readiness: only contract-sync must serve
	// for Oneflow's webhooks to be stored, so an employee-directory or Flex
	// HRM outage does not take the webhook route off a load balancer.
	mux.Handle("GET /readyz", &healthHandler{
		timeout:  opts.HealthTimeout,
		backends: []namedHealth{{"contract-sync", healthpb.NewHealthClient(opts.Backends.ContractSync)}},
	})
	mux.HandleFunc("GET "+OpenAPIPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.Document)
	})
	// Oneflow's webhook route has a handler of its own (the hot path); the
	// other methods on its path still meet grpc-gateway's routing answers.
	mux.Handle("POST "+WebhookPath, limitBody(MaxBodyBytes, &webhookHandler{client: syncClient, m: m}))
	mux.Handle("/", limitBody(MaxBodyBytes, gw))

	return traced(mux), nil
}

type namedHealth struct {
	name   string
	client healthpb.HealthClient
}

// healthHandler answers /healthz from the gRPC health of every backend: 200
// when all serve, 503 naming the ones that do not.
type healthHandler struct {
	timeout  time.Duration
	backends []namedHealth
}

func (h *healthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	result := make(map[string]string, len(h.backends))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range h.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := "UNREACHABLE"
			resp, err := b.client.Check(ctx, &healthpb.HealthCheckRequest{})
			if err == nil {
				st = resp.GetStatus().String()
			}
			mu.Lock()
			result[b.name] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	overall, code := "SERVING", http.StatusOK
	for _, st := range result {
		if st != healthpb.HealthCheckResponse_SERVING.String() {
			overall, code = "NOT_SERVING", http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": overall, "backends": result})
}

// Healthy reports whether every backend answers SERVING; used at start-up.
func Healthy(ctx context.Context, b Backends) error {
	for name, conn := range map[string]grpc.ClientConnInterface{
		"employee-directory": b.EmployeeDirectory,
		"contract-sync":      b.ContractSync,
		"document-archive":   b.DocumentArchive,
	} {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("%s: %s", name, resp.GetStatus())
		}
	}
	return nil
}
