package grpcx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionalphapb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/grpcx"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	serviceName   = "flexflow.test.v1.TestService"
	operatorToken = "operator-token-0123456789"
	employeeToken = "employee-token-0123456789"
)

// testService is a hand-written gRPC service (no generated code in libs):
// Ping answers, Panic panics, Slow waits until released or cancelled,
// Watch is a server stream that panics when asked to.
type testService struct {
	slowStarted chan struct{}
	release     chan struct{}
}

type testServer interface{}

func unaryHandler(fn func(*testService, context.Context) error, method string) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := new(emptypb.Empty)
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, _ any) (any, error) {
			if err := fn(srv.(*testService), ctx); err != nil {
				return nil, err
			}
			return &emptypb.Empty{}, nil
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + serviceName + "/" + method}, h)
	}
}

var testServiceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*testServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Ping", Handler: unaryHandler(func(*testService, context.Context) error { return nil }, "Ping")},
		{MethodName: "Panic", Handler: unaryHandler(func(*testService, context.Context) error {
			panic("boom for anna@example.se")
		}, "Panic")},
		{MethodName: "Slow", Handler: unaryHandler(func(s *testService, ctx context.Context) error {
			close(s.slowStarted)
			select {
			case <-s.release:
				return nil
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			}
		}, "Slow")},
		{MethodName: "Fail", Handler: unaryHandler(func(*testService, context.Context) error {
			return status.Error(codes.NotFound, "employee 19900312-1234 not found")
		}, "Fail")},
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(emptypb.Empty)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			panic("stream boom")
		},
	}},
}

func invoke(ctx context.Context, conn *grpc.ClientConn, method string) error {
	return conn.Invoke(ctx, "/"+serviceName+"/"+method, &emptypb.Empty{}, &emptypb.Empty{})
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	conn    *grpc.ClientConn
	addr    string
	svc     *testService
	logs    *syncBuffer
	cancel  context.CancelFunc
	served  chan error
	stopped bool
}

func testPolicy(t *testing.T) *auth.Policy {
	t.Helper()
	ops, err := auth.NewTokenSet([]string{operatorToken})
	if err != nil {
		t.Fatal(err)
	}
	emp, err := auth.NewTokenSet([]string{employeeToken})
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.NewPolicy(
		map[string]auth.Kind{
			"/" + serviceName + "/":      auth.KindOperator,
			"/" + serviceName + "/Ping":  auth.KindOpen,
			"/" + serviceName + "/Panic": auth.KindOpen,
			"/" + serviceName + "/Fail":  auth.KindOpen,
			"/" + serviceName + "/Watch": auth.KindOpen,
		},
		map[auth.Kind]auth.TokenSet{auth.KindOperator: ops, auth.KindEmployee: emp},
	)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs a real server on 127.0.0.1:0 with the test service.
func start(t *testing.T, policy *auth.Policy, shutdownTimeout time.Duration) *harness {
	t.Helper()
	h := &harness{
		svc:    &testService{slowStarted: make(chan struct{}), release: make(chan struct{})},
		logs:   &syncBuffer{},
		served: make(chan error, 1),
	}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := grpcx.NewServer(grpcx.Options{Logger: logger, Auth: policy, ShutdownTimeout: shutdownTimeout})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	srv.RegisterService(&testServiceDesc, h.svc)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.served <- srv.Serve(ctx, lis) }()

	h.conn, err = grpcx.Dial(h.addr)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		_ = h.conn.Close()
		h.stop(t)
	})
	return h
}

func (h *harness) stop(t *testing.T) {
	t.Helper()
	if h.stopped {
		return
	}
	h.stopped = true
	h.cancel()
	select {
	case err := <-h.served:
		if err != nil {
			t.Errorf("Serve returned %v after ctx cancel, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after ctx cancel")
	}
}

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestReflectionListsServices(t *testing.T) {
	h := start(t, auth.OpenPolicy(), 0)
	ctx := callCtx(t)
	want := []string{"flexflow.test.v1.TestService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}

	t.Run("v1", func(t *testing.T) {
		stream, err := reflectionpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			got = append(got, s.GetName())
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("services (-want +got):\n%s", diff)
		}
		_ = stream.CloseSend()
	})
	t.Run("v1alpha_for_older_tools", func(t *testing.T) {
		stream, err := reflectionalphapb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&reflectionalphapb.ServerReflectionRequest{MessageRequest: &reflectionalphapb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(resp.GetListServicesResponse().GetService()); n != len(want) {
			t.Errorf("v1alpha lists %d services, want %d", n, len(want))
		}
		_ = stream.CloseSend()
	})
}

func TestHealthAnswersServingAndStopsServingOnShutdown(t *testing.T) {
	// A policy that protects everything else: health must stay open.
	h := start(t, testPolicy(t), 0)
	ctx := callCtx(t)
	client := healthpb.NewHealthClient(h.conn)
	for _, svc := range []string{"", serviceName} {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			t.Fatalf("Check(%q): %v", svc, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, want SERVING", svc, resp.GetStatus())
		}
	}

	watch, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch first = %v, %v", first, err)
	}
	go h.cancel()
	// The watcher sees NOT_SERVING before the server goes away.
	if next, err := watch.Recv(); err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("watch after shutdown = %v, %v; want NOT_SERVING", next, err)
	}
}

func TestPanicBecomesInternalAndServerKeepsServing(t *testing.T) {
	h := start(t, auth.OpenPolicy(), 0)
	ctx := callCtx(t)

	err := invoke(ctx, h.conn, "Panic")
	if status.Code(err) != codes.Internal || status.Convert(err).Message() != "internal error" {
		t.Errorf("Panic: %v, want Internal \"internal error\"", err)
	}
	if strings.Contains(err.Error(), "boom") {
		t.Errorf("the caller sees the panic value: %v", err)
	}
	if err := invoke(ctx, h.conn, "Ping"); err != nil {
		t.Errorf("Ping after a panic: %v", err)
	}

	stream, err := h.conn.NewStream(ctx, &testServiceDesc.Streams[0], "/"+serviceName+"/Watch")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(&emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	if err := stream.RecvMsg(&emptypb.Empty{}); status.Code(err) != codes.Internal {
		t.Errorf("stream panic: %v, want Internal", err)
	}
	if err := invoke(ctx, h.conn, "Ping"); err != nil {
		t.Errorf("Ping after a stream panic: %v", err)
	}

	logs := h.logs.String()
	if !strings.Contains(logs, "panic in grpc handler") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic not logged with a stack:\n%s", logs)
	}
}

func TestEveryCallIsLoggedWithMethodCodeAndDuration(t *testing.T) {
	h := start(t, auth.OpenPolicy(), 0)
	ctx := callCtx(t)
	_ = invoke(ctx, h.conn, "Ping")
	_ = invoke(ctx, h.conn, "Fail")
	h.stop(t)

	logs := h.logs.String()
	for _, want := range []string{
		`"method":"/flexflow.test.v1.TestService/Ping","code":"OK","duration":`,
		`"level":"WARN","msg":"grpc call","method":"/flexflow.test.v1.TestService/Fail","code":"NotFound"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestAuthInterceptorOnARealServer(t *testing.T) {
	h := start(t, testPolicy(t), 0)
	ctx := callCtx(t)
	dialWith := func(token string) *grpc.ClientConn {
		conn, err := grpcx.Dial(h.addr, grpcx.WithBearerToken(token))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	close(h.svc.release) // Slow returns at once in this test

	tests := []struct {
		name string
		conn *grpc.ClientConn
		want codes.Code
	}{
		{"operator_token_reaches_operator_method", dialWith(operatorToken), codes.OK},
		{"no_token_is_unauthenticated", h.conn, codes.Unauthenticated},
		{"unknown_token_is_unauthenticated", dialWith("not-a-real-token-000000"), codes.Unauthenticated},
		{"employee_token_is_permission_denied", dialWith(employeeToken), codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(invoke(ctx, tt.conn, "Slow")); got != tt.want {
				t.Errorf("Slow: code %v, want %v", got, tt.want)
			}
		})
	}
	if err := invoke(ctx, h.conn, "Ping"); err != nil {
		t.Errorf("open method without token: %v", err)
	}
	if strings.Contains(h.logs.String(), operatorToken) || strings.Contains(h.logs.String(), employeeToken) {
		t.Error("a token reached the logs")
	}
}

func TestServeStopsGracefullyWhenTheContextEnds(t *testing.T) {
	h := start(t, auth.OpenPolicy(), 10*time.Second)
	ctx := callCtx(t)

	slowDone := make(chan error, 1)
	go func() {
		conn, err := grpcx.Dial(h.addr, grpcx.WithBearerToken(operatorToken))
		if err != nil {
			slowDone <- err
			return
		}
		defer conn.Close()
		slowDone <- invoke(ctx, conn, "Slow")
	}()
	<-h.svc.slowStarted

	stopped := make(chan struct{})
	go func() {
		h.stop(t)
		close(stopped)
	}()
	// The in-flight call keeps the server in its graceful stop...
	select {
	case <-stopped:
		t.Fatal("Serve returned while a call was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	// ...and completes normally when its handler finishes.
	close(h.svc.release)
	if err := <-slowDone; err != nil {
		t.Errorf("in-flight call during graceful stop: %v", err)
	}
	<-stopped

	if err := invoke(ctx, h.conn, "Ping"); status.Code(err) != codes.Unavailable {
		t.Errorf("call after stop: %v, want Unavailable", err)
	}
}

func TestServeCutsOffCallsAfterTheShutdownTimeout(t *testing.T) {
	h := start(t, auth.OpenPolicy(), 50*time.Millisecond)
	ctx := callCtx(t)
	slowDone := make(chan error, 1)
	go func() { slowDone <- invoke(ctx, h.conn, "Slow") }()
	<-h.svc.slowStarted
	h.stop(t) // returns although Slow never finishes on its own
	if err := <-slowDone; err == nil {
		t.Error("the cut-off call succeeded")
	}
}

func TestNewServerRefusesMissingDependencies(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := grpcx.NewServer(grpcx.Options{Auth: auth.OpenPolicy()}); err == nil {
		t.Error("NewServer without a logger succeeded")
	}
	if _, err := grpcx.NewServer(grpcx.Options{Logger: logger}); err == nil || !strings.Contains(err.Error(), "OpenPolicy") {
		t.Errorf("NewServer without auth: %v", err)
	}
}

func TestServeReturnsTheListenerError(t *testing.T) {
	srv, err := grpcx.NewServer(grpcx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: auth.OpenPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = lis.Close() // Accept fails at once
	err = srv.Serve(context.Background(), lis)
	if err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Serve on a closed listener = %v, want the accept error", err)
	}
}
