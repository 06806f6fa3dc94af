package grpcx_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// grpcurlPath finds grpcurl: on PATH (make test puts bin/ there) or in the
// repository's bin/ built by `make tools`.
func grpcurlPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "bin", "grpcurl"))
	if err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("grpcurl not found on PATH or in bin/ (run make tools)")
	return ""
}

// TestGrpcurlListsServicesAndSeesServing is issue 2's acceptance check: the
// real grpcurl, over plaintext, lists the services through reflection and
// the health check answers SERVING, with a policy that protects everything
// else.
func TestGrpcurlListsServicesAndSeesServing(t *testing.T) {
	grpcurl := grpcurlPath(t)
	h := start(t, testPolicy(t), 0)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, grpcurl, append([]string{"-plaintext"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("grpcurl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	list := run(h.addr, "list")
	for _, svc := range []string{serviceName, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(list, svc) {
			t.Errorf("grpcurl list lacks %s:\n%s", svc, list)
		}
	}
	if health := run(h.addr, "grpc.health.v1.Health/Check"); !strings.Contains(health, `"status": "SERVING"`) {
		t.Errorf("grpcurl health check:\n%s", health)
	}
}
