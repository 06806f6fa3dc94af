package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

// Option tunes a Server.
type Option func(*options)

type options struct {
	logger      *slog.Logger
	keepContent bool
	now         func() time.Time
}

// WithLogger logs each served request (method, path without query, status).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithDocumentContent keeps uploaded bytes in memory for DocumentContent. Off
// by default: the SHA-256 and size are what tests assert, and big uploads
// should not pile up.
func WithDocumentContent() Option { return func(o *options) { o.keepContent = true } }

// WithClock sets the clock used for document timestamps and the rate limit.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// maxRequestLog bounds the request log; the oldest entries go first.
const maxRequestLog = 200_000

// Server is the Flex HRM sandbox. Use Handler in-process, or Start to listen.
type Server struct {
	opts    options
	seed    Seed
	seedErr error

	mu       sync.Mutex
	st       *store
	knobs    knobs
	requests []RequestRecord
	seq      int

	srvMu   sync.Mutex
	httpSrv *http.Server
	url     string
}

// New builds a sandbox holding seed. An invalid seed does not panic: Err
// reports it, Start refuses to listen, and the API answers 500.
func New(seed Seed, opts ...Option) *Server {
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{opts: o}
	clone, err := seed.clone()
	if err == nil {
		err = clone.Validate()
	}
	s.seed, s.seedErr = clone, err
	s.st = newStore(clone)
	return s
}

// Err reports an invalid seed.
func (s *Server) Err() error { return s.seedErr }

// Credentials is the base64 "customer:user:password" the sandbox accepts.
func (s *Server) Credentials() string {
	return flexhrm.Credentials{
		CustomerNumber: s.seed.Credentials.CustomerNumber,
		Username:       s.seed.Credentials.Username,
		Password:       s.seed.Credentials.Password,
	}.Encoded()
}

// Handler serves the model under /api and the knobs under /_sandbox/.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (e.g. "127.0.0.1:0") and returns the API root URL,
// "http://host:port/api".
func (s *Server) Start(addr string) (string, error) {
	if s.seedErr != nil {
		return "", s.seedErr
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.httpSrv != nil {
		return "", errors.New("sandbox: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.httpSrv = srv
	s.url = "http://" + ln.Addr().String() + "/api"
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.logger.Error("sandbox: serve", "error", err)
		}
	}()
	return s.url, nil
}

// URL is the API root after Start, "" before.
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Shutdown stops listening and waits for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	srv := s.httpSrv
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// Close stops listening and drops open connections.
func (s *Server) Close() {
	s.srvMu.Lock()
	srv := s.httpSrv
	s.srvMu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/"):
		s.serveAPI(w, r)
	case r.URL.Path == "/_sandbox" || strings.HasPrefix(r.URL.Path, "/_sandbox/"):
		s.serveKnobs(w, r)
	default:
		// Not Flex HRM: a web server's plain 404, so a wrong root shows.
		drain(r)
		http.NotFound(w, r)
	}
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, "/api")
	rt := resolve(r.Method, rel)
	rec := &statusRecorder{ResponseWriter: w}
	record := RequestRecord{Time: s.opts.now(), Method: r.Method, Path: rel, Query: r.URL.RawQuery, PathID: rt.id}
	defer func() {
		record.Status = rec.status
		s.logRequest(record)
		s.opts.logger.Debug("sandbox: served", "method", r.Method, "path", rel, "status", rec.status, "injected", record.Injected)
	}()

	if s.seedErr != nil {
		writeError(rec, r, http.StatusInternalServerError, flexhrm.CodeInternalError, "The sandbox seed is invalid.", nil)
		return
	}
	if !s.sleep(r) {
		return
	}
	if injected := s.inject(rec, r, rel, rt.id); injected != "" {
		record.Injected = injected
		return
	}
	if rt.handle == nil {
		if len(rt.allow) > 0 {
			rec.Header().Set("Allow", strings.Join(rt.allow, ", "))
			writeError(rec, r, http.StatusMethodNotAllowed, flexhrm.CodeMethodNotAllowed, "The method is not allowed on this resource.", nil)
			return
		}
		writeError(rec, r, http.StatusNotFound, flexhrm.CodeNotFound, "No such resource.", nil)
		return
	}
	if !s.authenticate(rec, r) {
		return
	}
	rt.handle(s, rec, r, rt.param)
}

func (s *Server) logRequest(rec RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	rec.Seq = s.seq
	s.requests = append(s.requests, rec)
	if len(s.requests) > maxRequestLog {
		s.requests = slices.Delete(s.requests, 0, len(s.requests)-maxRequestLog)
	}
}

// sleep applies the latency knob; false when the caller went away.
func (s *Server) sleep(r *http.Request) bool {
	s.mu.Lock()
	d := s.knobs.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// drain reads what is left of a request body (bounded) so that an early
// answer reaches a client still sending, instead of a reset connection.
func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 512<<20))
	}
}
