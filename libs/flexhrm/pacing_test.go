package flexhrm

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"testing"
	"time"
)

// manualClock is time that moves only when the test says so.
type manualClock struct {
	now    time.Time
	timers []manualTimer
}

type manualTimer struct {
	at time.Time
	f  func()
}

func (c *manualClock) Now() time.Time { return c.now }

func (c *manualClock) AfterFunc(d time.Duration, f func()) {
	c.timers = append(c.timers, manualTimer{at: c.now.Add(d), f: f})
}

// advance moves time forward by d, firing the timers that fall due in order.
func (c *manualClock) advance(d time.Duration) {
	end := c.now.Add(d)
	for {
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			break
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		c.now = latest(c.now, t.at)
		t.f()
	}
	c.now = end
}

// pacerRig is a pacer on a manual clock with a log of releases.
type pacerRig struct {
	t        *testing.T
	clock    *manualClock
	p        *pacer
	released []string
	at       map[string]time.Time
	// autoAnswer answers every released request 200 at once.
	autoAnswer bool
}

func newPacerRig(t *testing.T) *pacerRig {
	clock := &manualClock{now: time.Date(2026, 1, 30, 9, 0, 0, 0, time.UTC)}
	return &pacerRig{t: t, clock: clock, p: newPacer(clock, nil), at: map[string]time.Time{}}
}

func (r *pacerRig) enqueue(name string) {
	r.p.enqueue(requestKey("GET", name, nil), func() {
		r.released = append(r.released, name)
		r.at[name] = r.clock.now
		if r.autoAnswer {
			r.answer(name, http.StatusOK, 0)
		}
	})
}

func (r *pacerRig) answer(name string, status int, retryAfter time.Duration) {
	r.p.observe(requestKey("GET", name, nil), r.clock.now, status, retryAfter)
}

// answers records n answers spread evenly over d, ending now.
func (r *pacerRig) answers(n int, d time.Duration) {
	step := d / time.Duration(n)
	for i := range n {
		r.clock.advance(step)
		r.answer("warm-"+string(rune('a'+i%26)), http.StatusOK, 0)
	}
}

// queueAfterARefusal: 10 requests/s got through, a refusal, then 200
// requests queued and answered at once, three seconds on.
func (r *pacerRig) queueAfterARefusal() {
	r.autoAnswer = true
	r.answers(10, time.Second)
	r.answer("x", http.StatusTooManyRequests, time.Second)
	for i := range 200 {
		r.enqueue(fmt.Sprintf("q%d", i))
	}
	r.clock.advance(3 * time.Second)
}

func (r *pacerRig) wantReleased(want ...string) {
	r.t.Helper()
	if len(r.released) != len(want) {
		r.t.Fatalf("released %v, want %v", r.released, want)
	}
	for i := range want {
		if r.released[i] != want[i] {
			r.t.Fatalf("released %v, want %v", r.released, want)
		}
	}
}

func TestPacer(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *pacerRig)
	}{
		{"a_client_never_refused_sends_every_request_at_once", func(t *testing.T, r *pacerRig) {
			for _, n := range []string{"a", "b", "c"} {
				r.enqueue(n)
			}
			r.wantReleased("a", "b", "c")
			if len(r.clock.timers) != 0 {
				t.Fatal("a dormant pacer set a timer")
			}
		}},
		{"the_first_refusal_holds_every_request_until_retry_after", func(t *testing.T, r *pacerRig) {
			r.answers(10, time.Second)
			r.answer("x", http.StatusTooManyRequests, time.Second)
			r.enqueue("a")
			r.enqueue("b")
			r.clock.advance(999 * time.Millisecond)
			r.wantReleased()
			r.clock.advance(time.Millisecond)
			r.wantReleased("a")
		}},
		{"after_the_first_pause_requests_leave_at_what_got_through", func(t *testing.T, r *pacerRig) {
			r.answers(10, time.Second) // 10 requests/s got through
			r.answer("x", http.StatusTooManyRequests, time.Second)
			for _, n := range []string{"a", "b", "c"} {
				r.enqueue(n)
			}
			r.clock.advance(2 * time.Second)
			r.wantReleased("a", "b", "c")
			// 0.9 × 10/s: 111 ms apart (the doubling has barely begun).
			if gap := r.at["b"].Sub(r.at["a"]); gap < 100*time.Millisecond || gap > 115*time.Millisecond {
				t.Fatalf("gap %v, want about 111ms", gap)
			}
		}},
		{"a_refused_request_goes_first_after_a_slot_of_silence", func(t *testing.T, r *pacerRig) {
			r.answers(10, time.Second)
			r.answer("x", http.StatusTooManyRequests, time.Second)
			r.clock.advance(time.Second)
			for _, n := range []string{"a", "b", "c"} {
				r.enqueue(n) // a leaves at once: the pause is over
			}
			r.enqueue("x") // the retry of the refused request
			r.clock.advance(3 * time.Second)
			r.wantReleased("a", "x", "b", "c")
			// About 9 requests/s: x waits two slots after a, b one after x.
			if gap, next := r.at["x"].Sub(r.at["a"]), r.at["b"].Sub(r.at["x"]); gap < 2*next-time.Millisecond {
				t.Fatalf("x left %v after a, b %v after x: want a slot of silence before x", gap, next)
			}
		}},
		{"a_later_refusal_cuts_the_rate_and_slows_the_rest_until_retry_after", func(t *testing.T, r *pacerRig) {
			r.queueAfterARefusal()
			r.answer("y", http.StatusTooManyRequests, time.Second)
			cut := r.p.rate
			before := len(r.released)
			r.clock.advance(time.Second)
			slowed := len(r.released) - before
			before = len(r.released)
			r.clock.advance(time.Second)
			after := len(r.released) - before
			if want := cut * 0.75; math.Abs(float64(slowed)-want) > 1.5 {
				t.Errorf("released %d during the Retry-After, want about %.1f (three quarters of %.1f/s)", slowed, want, cut)
			}
			if math.Abs(float64(after)-cut) > 1.5 {
				t.Errorf("released %d in the second after, want about %.1f", after, cut)
			}
		}},
		{"refusals_of_requests_sent_before_a_cut_do_not_cut_again", func(t *testing.T, r *pacerRig) {
			r.answers(10, time.Second)
			sent := r.clock.now.Add(-time.Millisecond)
			r.answer("x", http.StatusTooManyRequests, time.Second)
			rate := r.p.rate
			r.clock.advance(10 * time.Millisecond)
			r.p.observe(requestKey("GET", "y", nil), sent, http.StatusTooManyRequests, time.Second)
			if r.p.rate != rate {
				t.Fatalf("rate %v after a second refusal of the same moment, want %v", r.p.rate, rate)
			}
		}},
		{"the_rate_grows_back_while_requests_queue", func(t *testing.T, r *pacerRig) {
			r.answers(10, time.Second)
			r.answer("x", http.StatusTooManyRequests, time.Second)
			r.clock.advance(time.Second)
			r.p.slowStart, r.p.rate, r.p.rMax = false, 10, 10
			r.p.observe(requestKey("GET", "y", nil), r.clock.now, http.StatusTooManyRequests, 0)
			cut := r.p.rate
			for i := range 200 {
				r.enqueue("q" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
			}
			r.clock.advance(time.Duration(r.p.k * float64(time.Second)))
			r.p.mu.Lock()
			r.p.advance(r.clock.now)
			back := r.p.rate
			r.p.mu.Unlock()
			if cut >= 9.5 || back < 9.9 || back > 10.1 {
				t.Fatalf("cut to %.2f, back at %.2f after K; want below 9.5, then 10", cut, back)
			}
		}},
		{"a_peer's_refusal_slows_the_client_for_two_retry_afters_without_cutting_its_rate", func(t *testing.T, r *pacerRig) {
			r.queueAfterARefusal()
			// Past slow start, at the rate last refused: it stays flat.
			r.p.mu.Lock()
			r.p.slowStart, r.p.rate, r.p.rMax, r.p.k, r.p.busy = false, 10, 10, 0, 0
			rate := r.p.rate
			r.p.mu.Unlock()
			r.p.peerRefused(time.Second)
			if math.Abs(r.p.rate-rate) > 0.01 {
				t.Fatalf("rate %.2f after a peer's refusal, want %.2f", r.p.rate, rate)
			}
			before := len(r.released)
			r.clock.advance(2 * time.Second)
			slowed := len(r.released) - before
			before = len(r.released)
			r.clock.advance(time.Second)
			after := len(r.released) - before
			if want := 2 * rate * 0.75; math.Abs(float64(slowed)-want) > 2.5 {
				t.Errorf("released %d in the two seconds after the peer's refusal, want about %.1f (three quarters of %.1f/s)", slowed, want, rate)
			}
			if after < int(rate*0.95) {
				t.Errorf("released %d in the second after, want about %.1f", after, rate)
			}
		}},
		{"a_dormant_client_ignores_its_peers", func(t *testing.T, r *pacerRig) {
			r.p.peerRefused(time.Second)
			r.enqueue("a")
			r.enqueue("b")
			r.wantReleased("a", "b")
		}},
		{"a_request_whose_context_ends_leaves_the_queue", func(t *testing.T, r *pacerRig) {
			r.answer("x", http.StatusTooManyRequests, time.Second)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := r.p.wait(ctx, requestKey("GET", "a", nil)); err == nil {
				t.Fatal("wait with an ended context succeeded")
			}
			if len(r.p.queue) != 0 {
				t.Fatalf("%d turns left in the queue", len(r.p.queue))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newPacerRig(t)) })
	}
}

func TestPacingIsOnUnlessDisabled(t *testing.T) {
	creds := Credentials{CustomerNumber: "1", Username: "u", Password: "p"}
	for _, tt := range []struct {
		name   string
		policy PacingPolicy
		want   bool
	}{
		{"zero_policy_paces", PacingPolicy{}, true},
		{"disabled_policy_does_not", PacingPolicy{Disabled: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Options{APIRoot: "https://api.flexhrm.example/api", Credentials: creds, Pacing: tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.pacer != nil; got != tt.want {
				t.Fatalf("pacer present = %v, want %v", got, tt.want)
			}
		})
	}
}
