package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
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
	// lostRatio of the writes reach the sandbox but their answer is
	// replaced by a 502, as when a load balancer times out after the
	// backend did the work.
	lostRatio float64
	failed    int
	lost      int
	passed    int
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

// LoseAnswers makes ratio of the API writes (not GET) reach the sandbox
// and then answers them 502 instead of the sandbox's answer.
func (p *faultProxy) LoseAnswers(ratio float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lostRatio = ratio
}

// Counts returns how many API calls the proxy failed before the sandbox,
// answered 502 after the sandbox did the work, and let through.
func (p *faultProxy) Counts() (failed, lost, passed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed, p.lost, p.passed
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.HasPrefix(r.URL.Path, "/v1/")
	p.mu.Lock()
	fail := api && p.ratio > 0 && len(p.statuses) > 0 && rand.Float64() < p.ratio
	lose := api && !fail && r.Method != http.MethodGet && p.lostRatio > 0 && rand.Float64() < p.lostRatio
	status := 0
	switch {
	case fail:
		status = p.statuses[rand.IntN(len(p.statuses))]
		p.failed++
	case lose:
		p.lost++
	case api:
		p.passed++
	}
	p.mu.Unlock()
	if lose {
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>502 Bad Gateway (the e2e fault proxy lost the answer)</html>"))
		return
	}
	if fail {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"status":%d,"detail":"failure injected by the e2e fault proxy"}`, status)
		return
	}
	p.proxy.ServeHTTP(w, r)
}
