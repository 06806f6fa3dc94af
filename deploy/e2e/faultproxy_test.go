package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultProxy stands between the services and the Oneflow sandbox and makes
// a share of the calls fail the way a flaky load balancer in front of
// Oneflow would (500, 502, 503 with Oneflow's error shape), before they
// reach the sandbox: what the sandbox logs is what really happened there.
type faultProxy struct {
	url   string
	proxy *httputil.ReverseProxy

	mu       sync.Mutex
	ratio    float64
	statuses []int
	failed   int
	passed   int
}

func startFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{proxy: httputil.NewSingleHostReverseProxy(u)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "http://" + l.Addr().String()
	return p
}

// URL is where the services send their Oneflow calls.
func (p *faultProxy) URL() string { return p.url }

// SetFailures makes ratio (0..1) of the API calls fail with one of statuses;
// ratio 0 lets everything through.
func (p *faultProxy) SetFailures(ratio float64, statuses ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ratio, p.statuses = ratio, statuses
}

// Counts returns how many API calls the proxy failed and let through.
func (p *faultProxy) Counts() (failed, passed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed, p.passed
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.HasPrefix(r.URL.Path, "/v1/")
	p.mu.Lock()
	fail := api && p.ratio > 0 && len(p.statuses) > 0 && rand.Float64() < p.ratio
	status := 0
	if fail {
		status = p.statuses[rand.IntN(len(p.statuses))]
		p.failed++
	} else if api {
		p.passed++
	}
	p.mu.Unlock()
	if fail {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"status":%d,"detail":"failure injected by the e2e fault proxy"}`, status)
		return
	}
	p.proxy.ServeHTTP(w, r)
}
