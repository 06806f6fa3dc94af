package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	oneflowsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

// binDir is where `make test` built every binary (bin/, with Jaeger). The
// whole-system tests need real processes; outside `make test` they say how to
// run them instead of failing on a missing binary.
func binDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := os.Getenv("FLEXFLOW_BIN")
	if dir == "" {
		t.Skip("whole-system test: run through `make test` (it builds bin/ and sets FLEXFLOW_BIN)")
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Fatalf("FLEXFLOW_BIN=%s lacks %s: run `make build jaeger-build`", dir, n)
		}
	}
	return dir
}

// handedOut holds every address freeAddr gave in this test process. The
// whole-system tests run in parallel and each starts its processes a moment
// after choosing their ports: without it, a port one test chose and has not
// bound yet could be chosen again by another.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// freeAddr returns a loopback address nobody listens on right now and no
// other test of this process was given.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		handedOut.Lock()
		taken := handedOut.addrs[addr]
		handedOut.addrs[addr] = true
		handedOut.Unlock()
		if !taken {
			return addr
		}
	}
	t.Fatal("no unused loopback port in 100 tries")
	return ""
}

// syncBuffer collects the stack's output for the personal-data scan.
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

// jaeger is a running Jaeger v2 on free ports.
type jaeger struct {
	otlpHTTP string
	query    string
}

func startJaeger(t *testing.T, bin string) *jaeger {
	t.Helper()
	j := &jaeger{otlpHTTP: freeAddr(t), query: freeAddr(t)}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "jaeger"), "--config", filepath.Join(repo, "deploy/jaeger/config.yaml"))
	cmd.Env = append(os.Environ(),
		"JAEGER_OTLP_HTTP="+j.otlpHTTP, "JAEGER_OTLP_GRPC="+freeAddr(t),
		"JAEGER_QUERY_HTTP="+j.query, "JAEGER_QUERY_GRPC="+freeAddr(t),
		"OTEL_SDK_DISABLED=true", "OTEL_TRACES_SAMPLER=always_off")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + j.query + "/api/services")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger did not start: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jaegerTrace is the part of Jaeger's query API answer the tests read.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		Tags []jaegerTag `json:"tags"`
		Logs []struct {
			Fields []jaegerTag `json:"fields"`
		} `json:"logs"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string      `json:"serviceName"`
		Tags        []jaegerTag `json:"tags"`
	} `json:"processes"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

func (j *jaeger) traces(t *testing.T, service string) []jaegerTrace {
	t.Helper()
	url := fmt.Sprintf("http://%s/api/traces?service=%s&limit=1000&lookback=1h", j.query, service)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Data
}

func (j *jaeger) services(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get("http://" + j.query + "/api/services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []string `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.Data
}

// personalData is every value the sandboxes' seeds hold that must never show
// in a span or a service log: national ID numbers, emails and phone numbers
// (collected by key from the seeds, so a new seeded employee is covered).
func personalData(t *testing.T) []string {
	t.Helper()
	var values []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				walk(k, vv)
			}
		case []any:
			for _, vv := range x {
				walk(key, vv)
			}
		case string:
			k := strings.ToLower(key)
			if x != "" && (strings.Contains(k, "nationalidentification") || strings.Contains(k, "email") || strings.HasPrefix(k, "phone")) {
				values = append(values, x)
			}
		}
	}
	for _, seed := range []any{flexsandbox.DefaultSeed(), oneflowsandbox.DefaultSeed()} {
		raw, err := json.Marshal(seed)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		walk("", tree)
	}
	if len(values) < 10 {
		t.Fatalf("collected only %d personal values from the seeds; the scan would prove nothing", len(values))
	}
	return values
}

func contextWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
