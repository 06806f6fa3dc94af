package flexhrm

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"
)

// PacingPolicy shapes the request rate of a whole Client once Flex HRM has
// answered 429, so that requests queue in the client instead of being
// refused again.
//
// The zero value paces, and is dormant until the first 429: a client that is
// never refused sends every request at once, exactly as without pacing.
//
// The first 429 pauses every request of the client until the Retry-After has
// passed; then they leave one at a time, starting at 0.9 times what got
// through before the refusal and doubling every second while they queue,
// until the next 429 tells the rate. From then on each 429 caps the rate at
// 0.9 times what got through (or the rate itself when requests were queueing
// all along), the client's other requests slow to three quarters of that
// until the Retry-After has passed, and the refused request, when its retry
// comes (a read retried by the client, a write retried by its caller), goes
// first, after one slot of silence so that the limit has saved up a request
// for it. While requests queue the rate grows back along a cubic curve: fast
// at first, flat near the rate that was refused, then faster again, so that
// capacity another client of the same account stops using is found within
// seconds. Each Client learns its own rate: two processes sharing one
// account's limit each learn their part of it. Linked through Peers, each
// also slows down for the other's refusals, so that the refused request's
// retry finds the limit saved up instead of the other process using it
// (measured in BENCHMARKS.md, month-end burst).
type PacingPolicy struct {
	// Disabled sends every request as soon as it is made; 429s are then
	// only retried per read, as RetryPolicy says.
	Disabled bool
	// Peers, when set, hears of every 429 this client gets, to tell the
	// clients of the same account in other processes; their refusals come
	// back through Client.PeerRefused. Nil: the client paces alone.
	Peers PacingPeers
}

// PacingPeers carries a client's refusals to the other processes that share
// its rate limit (see RateLimitKey), e.g. over NATS.
type PacingPeers interface {
	// Refused tells the peers that Flex HRM refused this client with
	// retryAfter (0: none given). It is called on the request's path and
	// must not block: best effort, a lost notice only costs a refusal.
	Refused(retryAfter time.Duration)
}

// pacingTuning is the pacer's behaviour. It is not configuration: the
// defaults were chosen with the simulation in pacing_sim_test.go (two
// processes sharing one token bucket) and checked by the month-end benchmark
// (deploy/internal/bench); tests may change a pacer's copy.
type pacingTuning struct {
	// beta is the share of the rate kept after a refusal.
	beta float64
	// doubling is how long the rate takes to double after the first
	// refusal, until the second one tells the rate.
	doubling time.Duration
	// cubic is the growth in requests/s per s³ of queueing: cut from 15 to
	// 13.5 requests/s, the rate is back at 15 after about 5 s, and 5 above
	// it about 8 s later.
	cubic float64
	// slowdown is the share of the rate the client keeps between a refusal
	// (after the first) and its Retry-After.
	slowdown float64
	// window is how far back "what got through" is counted.
	window time.Duration
	// idleGap without answers ends a run of activity: what got through is
	// counted over the current run only (a client quiet for a while has not
	// had its rate refused).
	idleGap time.Duration
	// minRate is the lowest rate pacing goes down to (requests/s).
	minRate float64
	// remember is how long a refused request keeps its place at the front
	// for its retry; rememberMax bounds the requests remembered.
	remember    time.Duration
	rememberMax int
	// retryGap is the slots of silence before a refused request's retry.
	retryGap int
	// peerHold is how long, in Retry-Afters, a client slows down after a
	// peer's refusal: the peer's retry comes a little after its
	// Retry-After (reads wait up to a fifth longer, jittered).
	peerHold float64
}

func defaultPacingTuning() pacingTuning {
	return pacingTuning{beta: 0.9, doubling: time.Second, cubic: 0.01, slowdown: 0.75, window: 10 * time.Second,
		idleGap: 3 * time.Second, minRate: 0.5, remember: 5 * time.Minute, rememberMax: 4096, retryGap: 1, peerHold: 2}
}

// pacingSlot is the resolution of the answer counter.
const pacingSlot = 100 * time.Millisecond

// pacerClock is time for the pacer: the real one, or virtual time in the
// simulation.
type pacerClock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func())
}

type realClock struct{}

func (realClock) Now() time.Time                      { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) { time.AfterFunc(d, f) }

// pacer is the shared queue of one Client; see PacingPolicy.
type pacer struct {
	clock  pacerClock
	logger *slog.Logger
	tune   pacingTuning

	mu      sync.Mutex
	engaged bool
	// slowStart: after the first refusal the rate doubles from rStart while
	// requests queue, until the second refusal.
	slowStart bool
	rStart    float64
	// learning: the first refusal's pause is on; rStart is measured when
	// it ends.
	learning    bool
	rate        float64       // requests/s allowed now
	rMax        float64       // the rate when the client was last refused
	k           float64       // seconds of queueing from a cut back to rMax
	busy        time.Duration // time with requests queued since the last cut
	updated     time.Time     // when busy and rate were last brought up to date
	cutAt       time.Time     // when the rate was last cut
	next        time.Time     // earliest time the next request may leave
	lastRelease time.Time     // when the last request left
	// pausedUntil ends the latest Retry-After pause; pauses are the recent
	// ones, left out when measuring what got through.
	pausedUntil time.Time
	pauses      [8]pause
	pauseIndex  int
	got         answerCounter
	activeSince time.Time // start of the current run of answers
	lastAnswer  time.Time
	// queue holds the waiting turns, the refused requests' retries first
	// (the first retries of them).
	queue    []*turn
	retries  int
	timerSet bool
	refused  map[uint64]time.Time
}

type pause struct{ from, until time.Time }

// turn is one request waiting in the queue.
type turn struct {
	release func()
	done    bool
}

func newPacer(clock pacerClock, logger *slog.Logger) *pacer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &pacer{clock: clock, logger: logger, tune: defaultPacingTuning(), refused: map[uint64]time.Time{}}
}

// requestKey names a logical request: its retries have the same key.
func requestKey(method, target string, body []byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum64()
}

// wait blocks until the request may leave, or ctx ends.
func (p *pacer) wait(ctx context.Context, key uint64) error {
	ready := make(chan struct{})
	t := p.enqueue(key, func() { close(ready) })
	if t == nil {
		return nil
	}
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		p.cancel(t)
		return context.Cause(ctx)
	}
}

// enqueue calls release when the request's turn comes: at once (and returns
// nil) when nothing holds it back, else later from a timer.
func (p *pacer) enqueue(key uint64, release func()) *turn {
	p.mu.Lock()
	now := p.clock.Now()
	if !p.engaged {
		p.mu.Unlock()
		release()
		return nil
	}
	p.advance(now)
	at, refused := p.refused[key]
	retry := refused && now.Sub(at) < p.tune.remember
	if retry {
		// A retry leaves after a slot of silence, so that the limit has
		// saved up a request's worth for it.
		p.next = latest(p.next, p.lastRelease.Add(time.Duration(p.tune.retryGap+1)*p.interval(now)))
	}
	if len(p.queue) == 0 && !now.Before(p.next) && !now.Before(p.gate()) {
		p.next = now.Add(p.interval(now))
		p.lastRelease = now
		p.mu.Unlock()
		release()
		return nil
	}
	t := &turn{release: release}
	if retry {
		p.queue = append(p.queue, nil)
		copy(p.queue[p.retries+1:], p.queue[p.retries:])
		p.queue[p.retries] = t
		p.retries++
	} else {
		p.queue = append(p.queue, t)
	}
	p.schedule(now)
	p.mu.Unlock()
	return t
}

// cancel takes a turn out of the queue (a request whose context ended).
func (p *pacer) cancel(t *turn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.done {
		return
	}
	for i, q := range p.queue {
		if q == t {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			if i < p.retries {
				p.retries--
			}
			return
		}
	}
}

// interval is the time between two requests leaving: longer between a
// refusal and its Retry-After.
func (p *pacer) interval(now time.Time) time.Duration {
	if now.Before(p.pausedUntil) && !p.learning {
		return time.Duration(float64(time.Second) / (p.rate * p.tune.slowdown))
	}
	return time.Duration(float64(time.Second) / p.rate)
}

// gate is when the queue may move: the first refusal stops the client until
// its Retry-After (nothing is known of the rate yet); later ones only slow
// it down.
func (p *pacer) gate() time.Time {
	if p.learning {
		return p.pausedUntil
	}
	return time.Time{}
}

// schedule sets the timer for the head of the queue; p.mu is held.
func (p *pacer) schedule(now time.Time) {
	if p.timerSet || len(p.queue) == 0 {
		return
	}
	p.timerSet = true
	p.clock.AfterFunc(latest(p.next, p.gate()).Sub(now), p.fire)
}

// fire releases the head of the queue when its time has come.
func (p *pacer) fire() {
	p.mu.Lock()
	p.timerSet = false
	now := p.clock.Now()
	if len(p.queue) == 0 {
		p.mu.Unlock()
		return
	}
	if now.Before(latest(p.next, p.gate())) {
		// A pause began, or the rate fell, since the timer was set.
		p.schedule(now)
		p.mu.Unlock()
		return
	}
	p.advance(now)
	t := p.queue[0]
	p.queue = p.queue[1:]
	if p.retries > 0 {
		p.retries--
	}
	t.done = true
	p.lastRelease = now
	p.next = latest(now, p.next).Add(p.interval(now))
	p.schedule(now)
	p.mu.Unlock()
	t.release()
}

// advance counts the time requests spent queued since the last update and
// grows the rate with it; p.mu is held.
func (p *pacer) advance(now time.Time) {
	if p.learning && !now.Before(p.pausedUntil) {
		// The first pause is over: the answers to requests that were in
		// flight when it began have come in too.
		measured := p.measured(now)
		p.rStart = math.Max(p.tune.minRate, p.tune.beta*measured)
		p.learning = false
		p.rate, p.busy, p.updated = p.rStart, 0, now
		if p.tune.doubling <= 0 {
			// No slow start: what got through is the limit to dwell near.
			p.slowStart = false
			p.rMax = math.Max(p.tune.minRate, measured)
			p.k = math.Cbrt((p.rMax - p.rate) / p.tune.cubic)
		}
		p.logger.Info("flexhrm: Retry-After passed; pacing requests from what got through",
			"requests_per_second", math.Round(p.rate*100)/100)
	}
	if !now.After(p.updated) {
		return
	}
	if from := latest(p.updated, p.pausedUntil); len(p.queue) > 0 && now.After(from) {
		p.busy += now.Sub(from)
		p.got.addQueued(now, now.Sub(from))
	}
	p.updated = now
	if p.slowStart {
		p.rate = p.rStart * math.Exp2(p.busy.Seconds()/p.tune.doubling.Seconds())
		return
	}
	t := p.busy.Seconds() - p.k
	p.rate = math.Max(p.tune.minRate, p.rMax+p.tune.cubic*t*t*t)
}

// observe learns from one answer: sent is when the request left, status
// its HTTP status, retryAfter the server's Retry-After (0: none).
func (p *pacer) observe(key uint64, sent time.Time, status int, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if status != http.StatusTooManyRequests {
		if now.Sub(latest(p.lastAnswer, p.pausedUntil)) > p.tune.idleGap {
			p.activeSince = now
		}
		p.lastAnswer = now
		p.got.add(now)
		delete(p.refused, key)
		return
	}
	p.remember(key, now)
	p.pauseFor(now, retryAfter)
	if p.engaged && sent.Before(p.cutAt) {
		// Sent at the old rate: this refusal was answered by the last cut.
		return
	}
	measured := p.measured(now)
	p.cutAt = now
	if !p.engaged {
		// Nothing known yet but what got through just now, over a span too
		// short to trust: start below it and double while requests queue,
		// until the next refusal tells the rate.
		p.engaged, p.slowStart, p.learning = true, true, true
		p.rStart = math.Max(p.tune.minRate, p.tune.beta*measured)
		p.rate, p.busy, p.updated = p.rStart, 0, now
		p.advance(now)
	} else {
		p.advance(now)
		base := p.rate
		if from, span := p.measureSpan(now); p.slowStart || p.got.queued(from, now) < span*3/4 {
			// Requests did not queue most of the time: the client sent less
			// than its rate, and what got through is what it needs. In
			// slow start the rate doubled past the limit, and what got
			// through tells the limit.
			base = math.Min(base, measured)
		}
		p.slowStart = false
		p.rMax = math.Max(p.tune.minRate, base)
		p.rate = math.Max(p.tune.minRate, p.tune.beta*base)
		p.k = math.Cbrt((p.rMax - p.rate) / p.tune.cubic)
		p.busy, p.updated = 0, now
	}
	p.logger.Info("flexhrm: Flex HRM is rate limiting this client; pacing its requests",
		"requests_per_second", math.Round(p.rate*100)/100, "retry_after", retryAfter)
}

// pauseFor starts (or lengthens) the pause until a Retry-After; p.mu is
// held.
func (p *pacer) pauseFor(now time.Time, retryAfter time.Duration) {
	until := now.Add(retryAfter)
	if retryAfter <= 0 || !until.After(p.pausedUntil) {
		return
	}
	if now.Before(p.pausedUntil) {
		p.pauses[p.pauseIndex].until = until
	} else {
		p.pauseIndex = (p.pauseIndex + 1) % len(p.pauses)
		p.pauses[p.pauseIndex] = pause{from: now, until: until}
	}
	p.pausedUntil = until
}

// peerRefused learns that another client sharing this one's limit (another
// process on the same Flex HRM account) was refused: this client slows
// down for peerHold of the peer's Retry-Afters, as it does after its own
// refusals, so that the limit saves up for the peer's retry instead of this
// client using it. The rate is left alone: the peer's own cut answers the
// refusal. A dormant client has no rate to slow, and the first refusal's
// pause stops it anyway.
func (p *pacer) peerRefused(retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.engaged || p.learning {
		return
	}
	now := p.clock.Now()
	p.advance(now)
	p.pauseFor(now, time.Duration(float64(retryAfter)*p.tune.peerHold))
}

// remember marks a refused request so that its retry goes first; p.mu is
// held.
func (p *pacer) remember(key uint64, now time.Time) {
	if len(p.refused) >= p.tune.rememberMax {
		for k, at := range p.refused {
			if now.Sub(at) >= p.tune.remember || len(p.refused) >= p.tune.rememberMax {
				delete(p.refused, k)
			}
		}
	}
	p.refused[key] = now
}

// measured is what got through: answers per second of the measuring span.
func (p *pacer) measured(now time.Time) float64 {
	from, span := p.measureSpan(now)
	return float64(p.got.answers(from, now)) / span.Seconds()
}

// measureSpan is where counting starts and how long it runs: the window, or
// the current run of answers when shorter, without the pauses in it, and
// never under a quarter second.
func (p *pacer) measureSpan(now time.Time) (time.Time, time.Duration) {
	from := latest(now.Add(-p.tune.window), p.activeSince)
	span := now.Sub(from)
	for _, pause := range p.pauses {
		start, end := latest(from, pause.from), earliest(now, pause.until)
		if end.After(start) {
			span -= end.Sub(start)
		}
	}
	return from, max(span, 250*time.Millisecond)
}

// answerCounter counts answers, and time with requests queued, in
// pacingSlot slots over pacingWindow.
type answerCounter struct {
	slots [101]struct {
		n      int
		queued time.Duration
		index  int64
	}
}

func (c *answerCounter) slot(now time.Time) int {
	i := now.UnixNano() / int64(pacingSlot)
	s := &c.slots[i%int64(len(c.slots))]
	if s.index != i {
		s.index, s.n, s.queued = i, 0, 0
	}
	return int(i % int64(len(c.slots)))
}

func (c *answerCounter) add(now time.Time) { c.slots[c.slot(now)].n++ }

func (c *answerCounter) addQueued(now time.Time, d time.Duration) { c.slots[c.slot(now)].queued += d }

// queued is the time with requests queued between from and now.
func (c *answerCounter) queued(from, now time.Time) time.Duration {
	var d time.Duration
	c.each(from, now, func(_ int, q time.Duration) { d += q })
	return d
}

// answers is the answers between from and now.
func (c *answerCounter) answers(from, now time.Time) int {
	n := 0
	c.each(from, now, func(a int, _ time.Duration) { n += a })
	return n
}

func (c *answerCounter) each(from, now time.Time, f func(int, time.Duration)) {
	first, last := from.UnixNano()/int64(pacingSlot), now.UnixNano()/int64(pacingSlot)
	for _, s := range c.slots {
		if s.index >= first && s.index <= last {
			f(s.n, s.queued)
		}
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// pacingTransport makes every request of a Client take its turn (unless
// attempt already waited for it, outside the request timeout) and reports
// each answer to the pacer.
type pacingTransport struct {
	next  http.RoundTripper
	pacer *pacer
	peers PacingPeers // nil: pacing alone
}

// pacedKey carries, in a request's context, the key of a request that has
// already had its turn.
type pacedKey struct{}

func (t pacingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	key, paced := r.Context().Value(pacedKey{}).(uint64)
	if !paced {
		// Uploads: their body is a stream, their query names them.
		key = requestKey(r.Method, r.URL.RequestURI(), nil)
		if err := t.pacer.wait(r.Context(), key); err != nil {
			return nil, err
		}
	}
	sent := t.pacer.clock.Now()
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
		t.pacer.observe(key, sent, resp.StatusCode, retryAfter)
		if resp.StatusCode == http.StatusTooManyRequests && t.peers != nil {
			t.peers.Refused(retryAfter)
		}
	}
	return resp, err
}
