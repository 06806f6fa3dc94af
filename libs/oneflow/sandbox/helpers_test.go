package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

const testSignKey = "test-sign-key-3f9a"

// receiver is a webhook listener that verifies and records what arrives.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	received []oneflow.Notification
	attempts map[string]int
	// respond chooses the status for a notification's nth arrival (1-based).
	respond func(n oneflow.Notification, arrival int) int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{t: t, attempts: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	n, err := oneflow.DecodeNotification(body)
	if err != nil {
		r.t.Errorf("the sandbox sent an undecodable notification: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !oneflow.VerifySignature(n.CallbackID, n.Signature, testSignKey) {
		r.t.Errorf("the sandbox sent a notification with a bad signature")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	r.attempts[n.CallbackID]++
	arrival := r.attempts[n.CallbackID]
	respond := r.respond
	r.mu.Unlock()
	status := http.StatusOK
	if respond != nil {
		status = respond(n, arrival)
	}
	if status == http.StatusOK {
		r.mu.Lock()
		r.received = append(r.received, n)
		r.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (r *receiver) setRespond(f func(n oneflow.Notification, arrival int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = f
}

// accepted returns the notifications answered 200, in arrival order.
func (r *receiver) accepted() []oneflow.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]oneflow.Notification(nil), r.received...)
}

func (r *receiver) eventTypes() []string {
	var types []string
	for _, n := range r.accepted() {
		for _, e := range n.Events {
			types = append(types, e.Type)
		}
	}
	return types
}

func startSandbox(t *testing.T, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	if opts.SignKey == "" {
		opts.SignKey = testSignKey
	}
	if opts.TimeScale == 0 {
		opts.TimeScale = 0.001
	}
	srv, err := sandbox.Start(opts)
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func newClient(t *testing.T, srv *sandbox.Server) *oneflow.Client {
	t.Helper()
	c, err := oneflow.New(oneflow.Options{
		BaseURL: srv.APIURL(), Token: srv.APIToken(), UserEmail: srv.UserEmail(),
		Logger:           slog.New(slog.DiscardHandler),
		RateLimitBackoff: time.Millisecond,
		Retry:            oneflow.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("building the client: %v", err)
	}
	return c
}

func waitDelivered(t *testing.T, srv *sandbox.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := srv.WaitForDeliveries(ctx); err != nil {
		t.Fatalf("waiting for webhook deliveries: %v", err)
	}
}

// apiRequest calls the sandbox's API with raw HTTP and the given headers.
func apiRequest(t *testing.T, method, url string, headers map[string]string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func authHeaders(srv *sandbox.Server) map[string]string {
	return map[string]string{oneflow.HeaderAPIToken: srv.APIToken(), oneflow.HeaderUserEmail: srv.UserEmail()}
}

// errorBody is Oneflow's error JSON as the tests check it.
type errorBody struct {
	ErrorCode         int64               `json:"error_code"`
	Detail            string              `json:"detail"`
	ParameterProblems map[string][]string `json:"parameter_problems"`
	RequestID         string              `json:"request_id"`
	Status            int                 `json:"status"`
	Title             string              `json:"title"`
}

func decodeError(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not Oneflow's error body: %v: %s", err, b)
	}
	return e
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
