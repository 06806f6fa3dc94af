// Package sandbox is a real HTTP server that behaves like Oneflow closely
// enough to run, demonstrate and test flexflow without a Oneflow account: the
// Public API subset flexflow uses (under /v1), what a person does in the
// Oneflow app (under /_sandbox/, no auth), webhooks signed and resent on
// Oneflow's schedule, a real PDF behind a storage redirect (/_storage/), and
// test knobs (latency, failures, rate limits, request log, state dump, token
// revocation). Every behaviour Oneflow does not document follows the choices
// in ../gaps.go.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// Options configure a sandbox. Zero values take the seed's or a default.
type Options struct {
	// Addr is the listen address (default 127.0.0.1:0, a free port).
	Addr string
	// Seed is the starting data (default DefaultSeed()).
	Seed *Seed
	// APIToken, UserEmail, SignKey and WebhookURL override the seed's.
	// UserEmail is added as an active user when the seed lacks it.
	APIToken   string
	UserEmail  string
	SignKey    string
	WebhookURL string
	// TimeScale multiplies the webhook resend schedule: 0.001 turns Oneflow's
	// 1 s into 1 ms (default 1).
	TimeScale float64
	// WebhookTimeout bounds one delivery attempt (default 10s).
	WebhookTimeout time.Duration
	// DuplicateDeliveries sends every notification this many times (default 1).
	DuplicateDeliveries int
	// DeliveryJitter delays each delivery's first attempt by a random 0..d,
	// so notifications arrive out of order.
	DeliveryJitter time.Duration
	// LargePDFBytes, when positive, makes file 1 a valid PDF of exactly this
	// many bytes, generated while streaming.
	LargePDFBytes int64
	// Logger receives the sandbox's own log lines (never tokens or emails).
	// Default: discard.
	Logger *slog.Logger
}

// RequestLogEntry is one API or storage request the sandbox answered.
type RequestLogEntry struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	// Route is the matched route template, e.g. "PUT /v1/contracts/{id}/data_fields".
	Route      string  `json:"route"`
	Status     int     `json:"status"`
	RequestID  string  `json:"request_id"`
	DurationMS float64 `json:"duration_ms"`
}

const maxRequestLog = 200_000

// Server is a running sandbox.
type Server struct {
	logger   *slog.Logger
	seed     Seed
	listener net.Listener
	http     *http.Server
	baseURL  string
	hooks    *deliverer
	served   chan struct{}

	mu       sync.Mutex
	st       *state
	knobs    knobs
	token    string
	revoked  bool
	reqLog   []RequestLogEntry
	storage  map[string]storageEntry
	largePDF int64
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	seed := DefaultSeed()
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	if opts.APIToken != "" {
		seed.APIToken = opts.APIToken
	}
	if opts.SignKey != "" {
		seed.SignKey = opts.SignKey
	}
	if opts.WebhookURL != "" {
		seed.WebhookURL = opts.WebhookURL
	}
	if opts.UserEmail != "" {
		seed.UserEmail = opts.UserEmail
		seed.Users = ensureActiveUser(seed.Users, opts.UserEmail)
	}
	if err := seed.Validate(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listening on %s: %w", addr, err)
	}
	s := &Server{
		logger:   logger,
		seed:     seed,
		listener: ln,
		baseURL:  "http://" + ln.Addr().String(),
		served:   make(chan struct{}),
		st:       newState(seed),
		token:    seed.APIToken,
		storage:  map[string]storageEntry{},
		largePDF: opts.LargePDFBytes,
	}
	scale := opts.TimeScale
	if scale <= 0 {
		scale = 1
	}
	s.hooks = newDeliverer(deliveryConfig{
		url:        seed.WebhookURL,
		signKey:    seed.SignKey,
		timeScale:  scale,
		timeout:    opts.WebhookTimeout,
		duplicates: opts.DuplicateDeliveries,
		jitter:     opts.DeliveryJitter,
		logger:     logger,
	})
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("oneflow sandbox stopped serving", "error", err.Error())
		}
	}()
	return s, nil
}

func ensureActiveUser(users []oneflow.User, email string) []oneflow.User {
	var maxID int64
	for _, u := range users {
		if u.Active && strings.EqualFold(u.Email, email) {
			return users
		}
		maxID = max(maxID, u.ID)
	}
	return append(append([]oneflow.User(nil), users...),
		oneflow.User{ID: maxID + 1, Name: "API user", Email: email, Active: true, State: "active"})
}

// URL is the sandbox's root, e.g. http://127.0.0.1:8092.
func (s *Server) URL() string { return s.baseURL }

// APIURL is the Public API base to give the client, e.g.
// http://127.0.0.1:8092/v1.
func (s *Server) APIURL() string { return s.baseURL + "/v1" }

// APIToken is the token the API accepts.
func (s *Server) APIToken() string { return s.seed.APIToken }

// UserEmail is the seeded API user's email.
func (s *Server) UserEmail() string { return s.seed.UserEmail }

// SignKey is the key webhooks are signed with.
func (s *Server) SignKey() string { return s.seed.SignKey }

// Close stops serving and stops every webhook delivery.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.http.Close())
	}
	<-s.served
	s.hooks.close()
	return err
}

// Shutdown stops gracefully within ctx, then stops every webhook delivery.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.http.Close())
	}
	<-s.served
	s.hooks.close()
	return err
}

// Error is a refusal in Oneflow's terms; the HTTP API answers it as Oneflow's
// error body.
type Error struct {
	Status   int
	Detail   string
	Problems map[string][]string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sandbox: %d %s: %s", e.Status, http.StatusText(e.Status), e.Detail)
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Detail: what + " not found"}
}

func conflict(detail string) *Error {
	return &Error{Status: http.StatusConflict, Detail: detail}
}

func invalid(detail string, problems map[string][]string) *Error {
	return &Error{Status: http.StatusBadRequest, Detail: detail, Problems: problems}
}

type requestIDKey struct{}

func newRequestID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeOneflowError writes Oneflow's error body.
func writeOneflowError(w http.ResponseWriter, r *http.Request, e *Error) {
	reqID, _ := r.Context().Value(requestIDKey{}).(string)
	problems := any(map[string]any{})
	if len(e.Problems) > 0 {
		problems = e.Problems
	}
	writeJSON(w, e.Status, map[string]any{
		"error_code":         int64(e.Status) * 10000,
		"detail":             e.Detail,
		"parameter_problems": problems,
		"request_id":         reqID,
		"status":             e.Status,
		"title":              http.StatusText(e.Status),
		"type":               fmt.Sprintf("https://developer.oneflow.com/docs/errors#%d", e.Status),
	})
}

func writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if errors.As(err, &e) {
		writeOneflowError(w, r, e)
		return
	}
	writeOneflowError(w, r, &Error{Status: http.StatusInternalServerError, Detail: "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody decodes a JSON request body of at most 1 MiB.
func decodeBody(r *http.Request, v any) *Error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return invalid("the request body is not valid JSON of the expected shape", nil)
	}
	return nil
}

// statusRecorder captures the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /v1/ping", s.handlePing)
	api.HandleFunc("GET /v1/contracts/{id}", s.handleGetContract)
	api.HandleFunc("PUT /v1/contracts/{id}", s.handleUpdateContract)
	api.HandleFunc("PUT /v1/contracts/{id}/data_fields", s.handleUpdateDataFields)
	api.HandleFunc("PUT /v1/contracts/{id}/data_fields/{field}", s.handleUpdateDataField)
	api.HandleFunc("GET /v1/contracts/{id}/parties", s.handleListParties)
	api.HandleFunc("POST /v1/contracts/{id}/parties", s.handleAddParty)
	api.HandleFunc("POST /v1/contracts/{id}/parties/{party}/participants", s.handleAddParticipant)
	api.HandleFunc("PUT /v1/contracts/{id}/parties/{party}/participants/{participant}", s.handleUpdateParticipant)
	api.HandleFunc("DELETE /v1/contracts/{id}/parties/{party}/participants/{participant}", s.handleRemoveParticipant)
	api.HandleFunc("GET /v1/contracts/{id}/files/{file}", s.handleFile)
	api.HandleFunc("GET /v1/templates", s.handleListTemplates)
	api.HandleFunc("GET /v1/templates/{id}", s.handleGetTemplate)
	api.HandleFunc("GET /v1/users", s.handleListUsers)
	api.HandleFunc("GET /v1/template_types", s.handleListTemplateTypes)
	api.HandleFunc("POST /v1/template_types", s.handleCreateTemplateType)
	api.HandleFunc("GET /v1/template_types/{id}", s.handleGetTemplateType)
	api.HandleFunc("GET /v1/template_types/{id}/data_fields", s.handleListTemplateTypeDataFields)
	api.HandleFunc("PUT /v1/template_types/{id}/data_fields", s.handleSetTemplateTypeDataFields)
	api.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeOneflowError(w, r, notFound("route "+r.Method+" "+r.URL.Path))
	})

	mux := http.NewServeMux()
	mux.Handle("/v1/", s.apiMiddleware(api))
	storage := http.NewServeMux()
	storage.HandleFunc("GET /_storage/{key}", s.handleStorage)
	mux.Handle("/_storage/", s.logMiddleware(storage, storage))
	mux.Handle("/_sandbox/", s.sandboxRoutes())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{
			"service": "oneflow-sandbox", "api": s.APIURL(), "app_actions_and_knobs": s.baseURL + "/_sandbox/",
		})
	})
	return mux
}

// logMiddleware assigns a request id and records the request in the log,
// with the route template routes resolves it to (also for requests a knob
// answers before the route runs).
func (s *Server) logMiddleware(routes *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, route := routes.Handler(r)
		reqID := newRequestID()
		w.Header().Set("X-Request-Id", reqID)
		r2 := r.WithContext(context.WithValue(r.Context(), requestIDKey{}, reqID))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r2)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.record(RequestLogEntry{
			Time: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Route: route, Status: rec.status, RequestID: reqID,
			DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		})
	})
}

func (s *Server) record(e RequestLogEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqLog) >= maxRequestLog {
		s.reqLog = append(s.reqLog[:0], s.reqLog[len(s.reqLog)/2:]...)
	}
	s.reqLog = append(s.reqLog, e)
}

// apiMiddleware applies, in order: latency, injected failures,
// authentication, rate limiting; then the route.
func (s *Server) apiMiddleware(next *http.ServeMux) http.Handler {
	return s.logMiddleware(next, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := s.latencyFor(r.URL.Path); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if status, ok := s.takeFailure(r.Method, r.URL.Path); ok {
			writeOneflowError(w, r, &Error{Status: status, Detail: "failure injected by the sandbox"})
			return
		}
		if !s.authenticated(r) {
			writeOneflowError(w, r, &Error{Status: http.StatusUnauthorized,
				Detail: "missing or invalid API token or user email"})
			return
		}
		if s.takeRateLimit() {
			writeOneflowError(w, r, &Error{Status: http.StatusTooManyRequests,
				Detail: "rate limit exceeded: 2000 requests per 5 minutes"})
			return
		}
		next.ServeHTTP(w, r)
	}))
}

func (s *Server) authenticated(r *http.Request) bool {
	token := r.Header.Get(oneflow.HeaderAPIToken)
	email := strings.ToLower(strings.TrimSpace(r.Header.Get(oneflow.HeaderUserEmail)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		return false
	}
	if email == "" {
		return false
	}
	_, ok := s.st.activeUser(email)
	return ok
}

// RequestLog returns a copy of the request log (API and storage requests).
func (s *Server) RequestLog() []RequestLogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestLogEntry(nil), s.reqLog...)
}

// CountRequests counts logged requests matching a route template, e.g.
// "PUT /v1/contracts/{id}/data_fields", and (when status is not 0) a status.
func (s *Server) CountRequests(route string, status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.reqLog {
		if e.Route == route && (status == 0 || e.Status == status) {
			n++
		}
	}
	return n
}

// ClearRequestLog empties the request log.
func (s *Server) ClearRequestLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqLog = nil
}
