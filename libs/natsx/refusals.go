package natsx

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// RefusalsSubjectPrefix starts the subjects of Refusals; the rate limit's
// key is the last token.
const RefusalsSubjectPrefix = "flexflow.ratelimit.refused."

const (
	headerSender     = "Flexflow-Sender"
	headerRetryAfter = "Flexflow-Retry-After-Ms"
)

// Refusals carries, between processes that share one upstream rate limit,
// the news that the upstream refused one of them (429) and for how long, so
// the others can hold back while the refused request waits for its retry.
//
// It is core NATS on purpose: a notice is worth something for a second or
// two, so it is never stored or redelivered, and a lost one only costs a
// refusal. Publishing never blocks the caller's request (a disconnected
// connection buffers or drops it); a process does not hear its own notices.
type Refusals struct {
	nc      *nats.Conn
	subject string
	self    string
	logger  *slog.Logger

	mu  sync.Mutex
	sub *nats.Subscription
}

// NewRefusals links the processes whose limit is named key (a subject
// token: letters, digits, '-' or '_'), e.g. flexhrm.Client.RateLimitKey.
func NewRefusals(nc *nats.Conn, key string, logger *slog.Logger) (*Refusals, error) {
	if nc == nil || logger == nil {
		return nil, errors.New("natsx.NewRefusals: nil connection or logger")
	}
	if key == "" || !isToken(key) {
		return nil, fmt.Errorf("natsx.NewRefusals: key %q is not a subject token", key)
	}
	return &Refusals{nc: nc, subject: RefusalsSubjectPrefix + key, self: rand.Text(), logger: logger}, nil
}

// Refused tells the other processes that the upstream refused this one
// with retryAfter.
func (r *Refusals) Refused(retryAfter time.Duration) {
	msg := &nats.Msg{Subject: r.subject, Header: nats.Header{
		headerSender:     []string{r.self},
		headerRetryAfter: []string{strconv.FormatInt(retryAfter.Milliseconds(), 10)},
	}}
	if err := r.nc.PublishMsg(msg); err != nil {
		r.logger.Debug("rate limit refusal not shared", slog.Any("error", err))
	}
}

// Listen calls f with the Retry-After of every refusal another process
// shares, from NATS's delivery goroutine (f must be quick), until Close.
func (r *Refusals) Listen(f func(retryAfter time.Duration)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub != nil {
		return errors.New("natsx.Refusals: already listening")
	}
	sub, err := r.nc.Subscribe(r.subject, func(m *nats.Msg) {
		if m.Header.Get(headerSender) == r.self {
			return
		}
		ms, err := strconv.ParseInt(m.Header.Get(headerRetryAfter), 10, 64)
		if err != nil || ms < 0 || ms > int64(time.Hour/time.Millisecond) {
			return
		}
		f(time.Duration(ms) * time.Millisecond)
	})
	if err != nil {
		return fmt.Errorf("natsx.Refusals: subscribe: %w", err)
	}
	r.sub = sub
	return nil
}

// Close stops listening.
func (r *Refusals) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub == nil {
		return nil
	}
	err := r.sub.Unsubscribe()
	r.sub = nil
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
		return nil
	}
	return err
}

func isToken(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
