package flexhrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

// RetryPolicy bounds the automatic retries of reads (GET). Writes are never
// retried by the client. Zero fields take the defaults (30 s in total, 250 ms
// first wait, 5 s longest wait).
type RetryPolicy struct {
	// MaxElapsedTime caps the time spent on one read, retries included. A
	// Retry-After that does not fit in what is left ends the retries at once.
	MaxElapsedTime time.Duration
	// InitialInterval is the first wait; waits grow 1.5× with ±50 % jitter.
	InitialInterval time.Duration
	// MaxInterval caps one wait (a longer Retry-After is still honoured).
	MaxInterval time.Duration
	// MaxAttempts caps the attempts of one read; 0 means "until
	// MaxElapsedTime", 1 disables retries.
	MaxAttempts int
}

// Options configure a Client. APIRoot and Credentials are required.
type Options struct {
	// APIRoot is e.g. https://api.flexhrm.com/api (no trailing slash needed).
	APIRoot string
	// Credentials as parsed by ParseCredentials.
	Credentials Credentials
	// Transport is the base RoundTripper (default: a clone of
	// http.DefaultTransport); the client wraps it with otelhttp.
	Transport http.RoundTripper
	// TracerProvider for the otelhttp spans (default: the global one).
	TracerProvider trace.TracerProvider
	// RequestTimeout bounds one attempt of a JSON call (default 30 s).
	RequestTimeout time.Duration
	// UploadTimeout bounds one upload (default 10 min); see gaps.go.
	UploadTimeout time.Duration
	// Retry bounds the retries of reads.
	Retry RetryPolicy
	// Logger receives retry warnings and per-call debug lines, never URLs,
	// personal data or credentials (default: discard).
	Logger *slog.Logger
	// Paths replaces the path table (default DefaultPaths()).
	Paths *Paths
	// Pacing shapes the rate of all the client's requests after a 429
	// (default: on, dormant until Flex HRM first answers 429).
	Pacing PacingPolicy
}

// Client talks to one Flex HRM API root with one API user. It is safe for
// concurrent use.
type Client struct {
	root           string // API root without a trailing slash
	rootForHumans  string // scheme://host/path, for messages
	creds          Credentials
	http           *http.Client
	paths          Paths
	retry          RetryPolicy
	requestTimeout time.Duration
	uploadTimeout  time.Duration
	logger         *slog.Logger
	base           http.RoundTripper
	pacer          *pacer // nil when pacing is disabled
}

// New builds a Client, refusing an unusable root, missing credentials or a
// broken path table.
func New(opts Options) (*Client, error) {
	root, forHumans, err := parseRoot(opts.APIRoot)
	if err != nil {
		return nil, err
	}
	if opts.Credentials.IsZero() {
		return nil, errors.New("flexhrm: credentials are required")
	}
	if err := opts.Credentials.Validate(); err != nil {
		return nil, err
	}
	paths := DefaultPaths()
	if opts.Paths != nil {
		paths = *opts.Paths
	}
	if err := paths.Validate(); err != nil {
		return nil, err
	}
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	otelOpts := []otelhttp.Option{
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if op, ok := r.Context().Value(opKey{}).(string); ok {
				return "flexhrm " + op
			}
			return "flexhrm " + r.Method
		}),
	}
	if opts.TracerProvider != nil {
		otelOpts = append(otelOpts, otelhttp.WithTracerProvider(opts.TracerProvider))
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var pace *pacer
	inner := base
	if !opts.Pacing.Disabled {
		pace = newPacer(realClock{}, logger)
		inner = pacingTransport{next: base, pacer: pace, peers: opts.Pacing.Peers}
	}
	// otelhttp records the request URL on the span; the outer layer hands it a
	// URL whose personal query values are masked, the inner one restores the
	// real URL before the request leaves.
	transport := redactingTransport{next: otelhttp.NewTransport(restoringTransport{next: inner}, otelOpts...)}
	c := &Client{
		root:          root,
		rootForHumans: forHumans,
		creds:         opts.Credentials,
		http: &http.Client{
			Transport: transport,
			// Never follow redirects: the Authorization header must not travel,
			// and a redirect means the root is not the API (see gaps.go).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		paths:          paths,
		retry:          withRetryDefaults(opts.Retry),
		requestTimeout: orDefault(opts.RequestTimeout, defaultRequestTimeout),
		uploadTimeout:  orDefault(opts.UploadTimeout, defaultUploadTimeout),
		logger:         logger,
		base:           base,
		pacer:          pace,
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func withRetryDefaults(p RetryPolicy) RetryPolicy {
	p.MaxElapsedTime = orDefault(p.MaxElapsedTime, defaultMaxElapsedTime)
	p.InitialInterval = orDefault(p.InitialInterval, defaultInitialInterval)
	p.MaxInterval = orDefault(p.MaxInterval, defaultMaxInterval)
	if p.MaxAttempts < 0 {
		p.MaxAttempts = 0
	}
	return p
}

func parseRoot(root string) (string, string, error) {
	root = strings.TrimSpace(root)
	if root == "" {
		return "", "", errors.New("flexhrm: API root is required")
	}
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", errors.New("flexhrm: API root must be an http(s) URL such as https://api.flexhrm.com/api")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", errors.New("flexhrm: API root must not carry user info, a query or a fragment")
	}
	trimmed := strings.TrimRight(u.String(), "/")
	return trimmed, trimmed, nil
}

// CloseIdleConnections closes the base transport's idle keep-alive
// connections (when it has any), e.g. at shutdown or before a leak check.
func (c *Client) CloseIdleConnections() {
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// PeerRefused tells the client that Flex HRM refused another process on the
// same account (see PacingPolicy.Peers) with retryAfter; a 0 counts as one
// second, Flex HRM's usual Retry-After. Without pacing it does nothing.
func (c *Client) PeerRefused(retryAfter time.Duration) {
	if c.pacer == nil {
		return
	}
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	c.pacer.peerRefused(retryAfter)
}

// RateLimitKey names the rate limit shared by the clients of one customer
// number, Flex HRM's account (it limits the account, not a process), e.g. to
// link their pacing (PacingPolicy.Peers): an opaque hash, safe to put in
// subject names and logs. The API root is left out so that clients reaching
// Flex HRM through different proxies still meet.
func RateLimitKey(creds Credentials) string {
	h := fnv.New64a()
	h.Write([]byte("flexhrm\x00"))
	h.Write([]byte(creds.CustomerNumber))
	return strconv.FormatUint(h.Sum64(), 16)
}

// APIRoot is the root the client calls, for messages and diagnostics.
func (c *Client) APIRoot() string { return c.rootForHumans }

type opKey struct{}

// request is one call of the API.
type request struct {
	op          string
	method      string
	path        string // expanded template, relative to the root
	body        []byte // JSON, or nil
	idempotent  bool
	contentType string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes the call, retrying reads as RetryPolicy says.
func (c *Client) send(ctx context.Context, req request) (*response, error) {
	if !req.idempotent {
		return c.attempt(ctx, req, 1)
	}
	bo := &retryBackOff{exp: &backoff.ExponentialBackOff{
		InitialInterval:     c.retry.InitialInterval,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          backoff.DefaultMultiplier,
		MaxInterval:         c.retry.MaxInterval,
	}}
	attempts := 0
	opts := []backoff.RetryOption{
		backoff.WithBackOff(bo),
		backoff.WithMaxElapsedTime(c.retry.MaxElapsedTime),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.logger.WarnContext(ctx, "flexhrm: retrying a read", "op", req.op, "attempt", attempts, "wait", wait, "error", err.Error())
		}),
	}
	if c.retry.MaxAttempts > 0 {
		opts = append(opts, backoff.WithMaxTries(uint(c.retry.MaxAttempts)))
	}
	// A retry's turn in the pacing queue counts against the budget too.
	actx := context.WithValue(ctx, budgetKey{}, time.Now().Add(c.retry.MaxElapsedTime))
	var last error
	resp, err := backoff.Retry(ctx, func() (*response, error) {
		attempts++
		resp, err := c.attempt(actx, req, attempts)
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, errTurnPastBudget) {
			attempts--
			return nil, backoff.Permanent(last)
		}
		last = err
		again, retryAfter := retryable(err)
		if !again || ctx.Err() != nil {
			return nil, backoff.Permanent(err)
		}
		bo.retryAfter = retryAfter
		return nil, err
	}, opts...)
	if err != nil {
		var ae *APIError
		var te *TransportError
		switch {
		case ctx.Err() != nil && errors.Is(err, context.Cause(ctx)):
			// The call ended with its context, and the error is that
			// context's cause: possibly another call's error (errgroup
			// cancels with the first failure), which is not this call's to
			// count attempts on, and which that call holds too.
			return nil, fmt.Errorf("flexhrm: %s: %w", req.op, context.Cause(ctx))
		case errors.As(err, &ae):
			ae.Attempts = attempts
		case errors.As(err, &te):
			te.Attempts = attempts
		default:
			// The context ended while waiting between attempts.
			return nil, fmt.Errorf("flexhrm: %s: %w", req.op, err)
		}
		return nil, err
	}
	return resp, nil
}

// attempt makes one HTTP exchange and classifies its outcome.
func (c *Client) attempt(ctx context.Context, req request, n int) (*response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flexhrm: %s: %w", req.op, context.Cause(ctx))
	}
	if c.pacer != nil {
		// Wait for the turn before the request timeout starts: time in the
		// client's queue is not the server's slowness. A retry whose turn
		// would come after the read's retry budget is not made.
		key := requestKey(req.method, req.path, req.body)
		wctx := ctx
		if end, ok := ctx.Value(budgetKey{}).(time.Time); ok && n > 1 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithDeadlineCause(ctx, end, errTurnPastBudget)
			defer cancel()
		}
		if err := c.pacer.wait(wctx, key); err != nil {
			if errors.Is(err, errTurnPastBudget) && ctx.Err() == nil {
				return nil, errTurnPastBudget
			}
			return nil, fmt.Errorf("flexhrm: %s: %w", req.op, err)
		}
		ctx = context.WithValue(ctx, pacedKey{}, key)
	}
	actx, cancel := context.WithTimeout(context.WithValue(ctx, opKey{}, req.op), c.requestTimeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, c.root+req.path, body)
	if err != nil {
		return nil, fmt.Errorf("flexhrm: %s: building the request failed", req.op)
	}
	c.setHeaders(hreq)
	// Which try of this call the request is, so that a log on either side
	// tells a retry from a new request.
	hreq.Header.Set("Flexflow-Attempt", strconv.Itoa(n))
	if req.contentType != "" {
		hreq.Header.Set("Content-Type", req.contentType)
	}
	start := time.Now()
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transportError(ctx, req.op, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, req.op, err)
	}
	c.logger.DebugContext(ctx, "flexhrm: call", "op", req.op, "method", req.method, "status", hresp.StatusCode, "attempt", n, "duration", time.Since(start))
	if len(data) > maxResponseBytes {
		return nil, &APIError{Op: req.op, Status: hresp.StatusCode, Message: "response larger than the client accepts", kinds: []error{ErrUnexpectedResponse}}
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, classify(req.op, hresp.StatusCode, hresp.Header, data)
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, nil
}

func (c *Client) setHeaders(r *http.Request) {
	r.Header.Set("Authorization", "Basic "+c.creds.Encoded())
	r.Header.Set("Instance", c.creds.CustomerNumber)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "flexflow-flexhrm")
}

// transportError turns a failure to get an answer into a TransportError,
// stripping the URL (*url.Error quotes it, query and all).
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("flexhrm: %s: %w", op, context.Cause(ctx))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errAttemptTimeout
	}
	return &TransportError{Op: op, Err: err}
}

var errAttemptTimeout = errors.New("no answer within the request timeout")

// budgetKey carries, in a read's context, when its retry budget ends.
type budgetKey struct{}

// errTurnPastBudget: a retry's turn in the pacing queue would come after the
// read's retry budget; the read ends with the previous try's error.
var errTurnPastBudget = errors.New("pacing turn after the retry budget")

// retryable says whether a read may be tried again, and the server's wait.
func retryable(err error) (bool, time.Duration) {
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true, ae.RetryAfter
		}
		return false, 0
	}
	var te *TransportError
	if !errors.As(err, &te) {
		return false, 0
	}
	var dns *net.DNSError
	if errors.As(te.Err, &dns) && dns.IsNotFound {
		return false, 0
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		record           tls.RecordHeaderError
	)
	if errors.As(te.Err, &unknownAuthority) || errors.As(te.Err, &hostname) || errors.As(te.Err, &invalid) ||
		errors.As(te.Err, &verification) || errors.As(te.Err, &record) {
		return false, 0
	}
	return true, 0
}

// retryBackOff is exponential backoff with jitter that never waits less than
// the server's Retry-After.
type retryBackOff struct {
	exp        *backoff.ExponentialBackOff
	retryAfter time.Duration
}

func (b *retryBackOff) Reset() { b.exp.Reset(); b.retryAfter = 0 }

func (b *retryBackOff) NextBackOff() time.Duration {
	next := b.exp.NextBackOff()
	if b.retryAfter > 0 {
		// Honour Retry-After, plus up to 20 % so that clients told the same
		// second do not all come back in the same instant.
		wait := b.retryAfter + time.Duration(rand.Int64N(int64(b.retryAfter)/5+1))
		if wait > next {
			next = wait
		}
	}
	b.retryAfter = 0
	return next
}

// redactingTransport shows the layers above the real request (otelhttp) a
// URL whose query values are masked unless they are ids or paging.
type redactingTransport struct{ next http.RoundTripper }

type realURLKey struct{}

func (t redactingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL == nil || r.URL.RawQuery == "" {
		return t.next.RoundTrip(r)
	}
	masked := *r.URL
	masked.RawQuery = maskQuery(r.URL.Query())
	r2 := r.WithContext(context.WithValue(r.Context(), realURLKey{}, r.URL))
	r2.URL = &masked
	return t.next.RoundTrip(r2)
}

// restoringTransport puts the real URL back just before the request leaves.
type restoringTransport struct{ next http.RoundTripper }

func (t restoringTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if real, ok := r.Context().Value(realURLKey{}).(*url.URL); ok {
		r2 := r.WithContext(r.Context())
		r2.URL = real
		return t.next.RoundTrip(r2)
	}
	return t.next.RoundTrip(r)
}

func maskQuery(q url.Values) string {
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			switch {
			case strings.EqualFold(k, "pageIndex"), strings.EqualFold(k, "pageSize"), strings.EqualFold(k, "active"), uuidOnly.MatchString(v):
				out.Add(k, v)
			default:
				out.Add(k, "REDACTED")
			}
		}
	}
	return out.Encode()
}

// get reads one object.
func get[T any](ctx context.Context, c *Client, op, tmpl string, v vars) (T, error) {
	var zero T
	path, err := expand(tmpl, v)
	if err != nil {
		return zero, invalidInput(op, err)
	}
	resp, err := c.send(ctx, request{op: op, method: http.MethodGet, path: path, idempotent: true})
	if err != nil {
		return zero, err
	}
	obj, err := decodeObject[T](resp.body)
	if err != nil {
		return zero, &APIError{Op: op, Status: resp.status, Message: err.Error(), kinds: []error{ErrUnexpectedResponse}}
	}
	return obj, nil
}

// getPage reads one page of a list.
func getPage[T any](ctx context.Context, c *Client, op, tmpl string, v vars) ([]T, listShape, error) {
	path, err := expand(tmpl, v)
	if err != nil {
		return nil, listShape{}, invalidInput(op, err)
	}
	resp, err := c.send(ctx, request{op: op, method: http.MethodGet, path: path, idempotent: true})
	if err != nil {
		return nil, listShape{}, err
	}
	items, shape, err := decodeList[T](resp.body)
	if err != nil {
		return nil, listShape{}, &APIError{Op: op, Status: resp.status, Message: err.Error(), kinds: []error{ErrUnexpectedResponse}}
	}
	return items, shape, nil
}

// listAll reads every page of a list (see gaps.go for when it stops).
func listAll[T any](ctx context.Context, c *Client, op, tmpl string, v vars) ([]T, error) {
	var all []T
	for page := range maxPages {
		v["pageIndex"] = strconv.Itoa(page)
		v["pageSize"] = strconv.Itoa(MaxPageSize)
		items, shape, err := getPage[T](ctx, c, op, tmpl, v)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		size := MaxPageSize
		if shape.pageSize > 0 && shape.pageSize < size {
			size = shape.pageSize
		}
		switch {
		case shape.bare, len(items) == 0, len(items) > MaxPageSize:
			return all, nil
		case shape.totalCount >= 0:
			if len(all) >= shape.totalCount {
				return all, nil
			}
		case len(items) < size:
			return all, nil
		}
	}
	return nil, &APIError{Op: op, Status: http.StatusOK, Message: "the list did not end after " + strconv.Itoa(maxPages) + " pages", kinds: []error{ErrUnexpectedResponse}}
}

// write sends a JSON body with PUT or POST, once.
func write[T any](ctx context.Context, c *Client, op, method, tmpl string, v vars, body any) (T, int, error) {
	var zero T
	path, err := expand(tmpl, v)
	if err != nil {
		return zero, 0, invalidInput(op, err)
	}
	data, err := jsonMarshal(body)
	if err != nil {
		return zero, 0, invalidInput(op, fmt.Errorf("encoding the body: %s", jsonProblem(err)))
	}
	resp, err := c.send(ctx, request{op: op, method: method, path: path, body: data, contentType: "application/json"})
	if err != nil {
		return zero, 0, err
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return zero, resp.status, nil
	}
	obj, err := decodeObject[T](resp.body)
	if err != nil {
		return zero, resp.status, &APIError{Op: op, Status: resp.status, Message: err.Error(), kinds: []error{ErrUnexpectedResponse}}
	}
	return obj, resp.status, nil
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
