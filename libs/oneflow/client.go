package oneflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// Header names Oneflow authenticates every call with.
const (
	HeaderAPIToken  = "x-oneflow-api-token"
	HeaderUserEmail = "x-oneflow-user-email"
)

const (
	// DefaultRequestTimeout bounds one attempt of a JSON call, and the wait for
	// a download's response headers.
	DefaultRequestTimeout = 30 * time.Second
	maxResponseBytes      = 16 << 20
	maxErrorBodyBytes     = 64 << 10
	userAgent             = "flexflow-oneflow-client/1"
)

// RetryPolicy bounds how reads (GET) are retried on 5xx answers and network
// errors. The client's retries are short: callers own the long retry budget.
type RetryPolicy struct {
	// InitialInterval is the first wait (default 500ms); waits grow
	// exponentially with ±50% jitter.
	InitialInterval time.Duration
	// MaxInterval caps one wait (default 10s).
	MaxInterval time.Duration
	// MaxElapsedTime caps the time spent retrying one call (default 30s).
	MaxElapsedTime time.Duration
	// MaxAttempts caps the attempts of one call; 0 means only MaxElapsedTime
	// bounds them, 1 turns retries off.
	MaxAttempts uint
}

// Options configure a Client. BaseURL, Token, UserEmail and Logger are
// required.
type Options struct {
	// BaseURL is the API root including the version, e.g.
	// https://api.oneflow.com/v1.
	BaseURL string
	// Token is the 40-character API token, sent as x-oneflow-api-token.
	Token string
	// UserEmail is the Oneflow user the integration acts as, sent as
	// x-oneflow-user-email (without it Oneflow acts as an anonymous admin).
	UserEmail string
	// Transport is the base round tripper (default: a clone of
	// http.DefaultTransport). API calls go through otelhttp around it.
	Transport http.RoundTripper
	// RequestTimeout bounds one attempt (default DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Retry bounds the retries of reads.
	Retry RetryPolicy
	// RateLimitBackoff is the wait after a 429 (default
	// DefaultRateLimitBackoff).
	RateLimitBackoff time.Duration
	// RateLimitMaxWait bounds the total wait for 429s in one call (default
	// DefaultRateLimitMaxWait); negative means a 429 fails at once.
	RateLimitMaxWait time.Duration
	// UserCacheTTL is how long the index of active users is reused (default
	// DefaultUserCacheTTL).
	UserCacheTTL time.Duration
	// Logger receives one line per failed attempt (op, status, request_id);
	// never tokens, emails or bodies.
	Logger *slog.Logger
}

// Client calls Oneflow's Public API. It is safe for concurrent use.
type Client struct {
	baseURL     *url.URL
	token       string
	userEmail   string
	api         *http.Client
	storage     *http.Client
	timeout     time.Duration
	retry       RetryPolicy
	rateBackoff time.Duration
	rateMaxWait time.Duration
	logger      *slog.Logger
	users       *userDirectory
}

// New builds a Client, refusing incomplete options. Errors never quote the
// token or the email.
func New(opts Options) (*Client, error) {
	if opts.Logger == nil {
		return nil, errors.New("oneflow: Options.Logger is required")
	}
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("oneflow: Options.Token is required")
	}
	if strings.TrimSpace(opts.UserEmail) == "" {
		return nil, errors.New("oneflow: Options.UserEmail is required")
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("oneflow: Options.BaseURL must be an absolute http(s) URL such as https://api.oneflow.com/v1")
	}
	if base.User != nil || base.RawQuery != "" {
		return nil, errors.New("oneflow: Options.BaseURL must not carry credentials or a query")
	}

	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			transport = t.Clone()
		}
	}
	c := &Client{
		baseURL:     base,
		token:       opts.Token,
		userEmail:   opts.UserEmail,
		timeout:     orDefault(opts.RequestTimeout, DefaultRequestTimeout),
		retry:       opts.Retry,
		rateBackoff: orDefault(opts.RateLimitBackoff, DefaultRateLimitBackoff),
		rateMaxWait: orDefault(opts.RateLimitMaxWait, DefaultRateLimitMaxWait),
		logger:      opts.Logger,
		users:       newUserDirectory(orDefault(opts.UserCacheTTL, DefaultUserCacheTTL)),
	}
	c.retry.InitialInterval = orDefault(c.retry.InitialInterval, 500*time.Millisecond)
	c.retry.MaxInterval = orDefault(c.retry.MaxInterval, 10*time.Second)
	c.retry.MaxElapsedTime = orDefault(c.retry.MaxElapsedTime, 30*time.Second)

	c.api = &http.Client{
		Transport: otelhttp.NewTransport(transport,
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				if op, ok := r.Context().Value(opKey{}).(string); ok {
					return "oneflow " + op
				}
				return "oneflow " + r.Method
			})),
		// Redirects are handled by DownloadContractFile alone, which must not
		// forward the token to the storage host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.storage = &http.Client{
		Transport: &storageTransport{base: transport},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			// Belt and braces: the first storage request never had them.
			req.Header.Del(HeaderAPIToken)
			req.Header.Del(HeaderUserEmail)
			return nil
		},
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// opKey carries the call's route template (e.g. "GET /contracts/{id}") to the
// span name formatter.
type opKey struct{}

// call is one Public API request.
type call struct {
	// op is the route template: names spans, log lines and errors without ids
	// of people.
	op     string
	method string
	path   string
	query  url.Values
	body   []byte
}

func newCall(method, template, path string, query url.Values, in any) (call, error) {
	cl := call{op: method + " " + template, method: method, path: path, query: query}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return call{}, fmt.Errorf("oneflow: %s: encoding the request: %w", cl.op, err)
		}
		cl.body = b
	}
	return cl, nil
}

// doJSON runs a call and decodes a 2xx answer into out (when not nil).
func (c *Client) doJSON(ctx context.Context, cl call, out any) error {
	body, err := withRetries(ctx, c, cl, func(ctx context.Context) ([]byte, error) {
		return c.attemptJSON(ctx, cl)
	})
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := decodeJSON(body, out); err != nil {
		return &decodeError{op: cl.op, err: err}
	}
	return nil
}

func decodeJSON(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errEmptyBody
	}
	return json.Unmarshal(body, out)
}

func (c *Client) newRequest(ctx context.Context, cl call) (*http.Request, error) {
	u := *c.baseURL
	u.Path = c.baseURL.Path + cl.path
	u.RawQuery = cl.query.Encode()
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, opKey{}, cl.op), cl.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("oneflow: %s: building the request: %w", cl.op, err)
	}
	req.Header.Set(HeaderAPIToken, c.token)
	req.Header.Set(HeaderUserEmail, c.userEmail)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// attemptJSON is one try of a JSON call, bounded by the request timeout.
func (c *Client) attemptJSON(ctx context.Context, cl call) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(ctx, cl)
	if err != nil {
		return nil, err
	}
	resp, err := c.api.Do(req)
	if err != nil {
		return nil, &transportError{op: cl.op, err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.apiError(cl.op, resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &transportError{op: cl.op, err: fmt.Errorf("reading the answer: %w", unwrapURLError(err))}
	}
	if len(body) > maxResponseBytes {
		return nil, &decodeError{op: cl.op, err: errors.New("answer larger than 16 MiB")}
	}
	return body, nil
}

// apiError reads (a bounded part of) an error answer and closes nothing: the
// caller owns resp.Body.
func (c *Client) apiError(op string, resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	return decodeAPIError(op, resp.StatusCode, resp.Header, body)
}

// unwrapURLError drops *url.Error's wrapper, whose text quotes the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// withRetries runs attempt with the client's policies: every call waits out
// 429s within the rate-limit budget; reads are also retried on 5xx and network
// errors with exponential backoff and jitter. Writes are not retried on 5xx or
// network errors: the effect may already have happened.
func withRetries[T any](ctx context.Context, c *Client, cl call, attempt func(context.Context) (T, error)) (T, error) {
	rateLimited := func() (T, error) {
		var waited time.Duration
		for {
			v, err := attempt(ctx)
			var apiErr *APIError
			if err == nil || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
				return v, err
			}
			wait := jittered(c.rateBackoff, rateLimitJitter)
			if c.rateMaxWait < 0 || waited+wait > c.rateMaxWait {
				return v, err
			}
			c.logger.WarnContext(ctx, "oneflow rate limited the call; backing off",
				"op", cl.op, "request_id", apiErr.RequestID, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return v, fmt.Errorf("oneflow: %s: waiting out a rate limit: %w", cl.op, err)
			}
			waited += wait
		}
	}
	if cl.method != http.MethodGet {
		v, err := rateLimited()
		c.logFailure(ctx, cl, err)
		return v, err
	}

	eb := &backoff.ExponentialBackOff{
		InitialInterval:     c.retry.InitialInterval,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          backoff.DefaultMultiplier,
		MaxInterval:         c.retry.MaxInterval,
	}
	opts := []backoff.RetryOption{
		backoff.WithBackOff(eb),
		backoff.WithMaxElapsedTime(c.retry.MaxElapsedTime),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.logFailure(ctx, cl, err)
			c.logger.DebugContext(ctx, "retrying oneflow call", "op", cl.op, "wait", wait)
		}),
	}
	if c.retry.MaxAttempts > 0 {
		opts = append(opts, backoff.WithMaxTries(c.retry.MaxAttempts))
	}
	v, err := backoff.Retry(ctx, func() (T, error) {
		v, err := rateLimited()
		if err != nil && (ctx.Err() != nil || !errors.Is(err, ErrUnavailable)) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}, opts...)
	if err != nil {
		c.logFailure(ctx, cl, err)
		// backoff.Retry answers the bare context error when ctx ends between
		// attempts: name the call.
		if cause := context.Cause(ctx); cause != nil && err == cause {
			err = fmt.Errorf("oneflow: %s: %w", cl.op, err)
		}
	}
	return v, err
}

func (c *Client) logFailure(ctx context.Context, cl call, err error) {
	if err == nil {
		return
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		c.logger.WarnContext(ctx, "oneflow call failed", "op", cl.op, "status", apiErr.StatusCode,
			"error_code", apiErr.ErrorCode, "request_id", apiErr.RequestID)
		return
	}
	c.logger.WarnContext(ctx, "oneflow call failed", "op", cl.op, "error", err.Error())
}

func jittered(d time.Duration, factor float64) time.Duration {
	if d <= 0 {
		return 0
	}
	delta := factor * float64(d)
	return time.Duration(float64(d) - delta + rand.Float64()*2*delta)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
