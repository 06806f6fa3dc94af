package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexflow/flexflow/services/employee-directory/internal/cache"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestCache(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		run       func(t *testing.T, c *cache.Cache[int], clk *clock, load func(context.Context) (int, error))
		wantLoads int64
	}{
		{
			name: "a second get within the ttl is served from the cache",
			ttl:  time.Second,
			run: func(t *testing.T, c *cache.Cache[int], _ *clock, load func(context.Context) (int, error)) {
				mustGet(t, c, "k", load, false)
				mustGet(t, c, "k", load, true)
			},
			wantLoads: 1,
		},
		{
			name: "an expired entry is loaded again",
			ttl:  time.Second,
			run: func(t *testing.T, c *cache.Cache[int], clk *clock, load func(context.Context) (int, error)) {
				mustGet(t, c, "k", load, false)
				clk.Advance(time.Second)
				mustGet(t, c, "k", load, false)
			},
			wantLoads: 2,
		},
		{
			name: "a zero ttl stores nothing",
			ttl:  0,
			run: func(t *testing.T, c *cache.Cache[int], _ *clock, load func(context.Context) (int, error)) {
				mustGet(t, c, "k", load, false)
				mustGet(t, c, "k", load, false)
				if c.Len() != 0 {
					t.Fatalf("Len = %d", c.Len())
				}
			},
			wantLoads: 2,
		},
		{
			name: "an invalidated key is loaded again",
			ttl:  time.Minute,
			run: func(t *testing.T, c *cache.Cache[int], _ *clock, load func(context.Context) (int, error)) {
				mustGet(t, c, "k", load, false)
				c.Invalidate("k")
				mustGet(t, c, "k", load, false)
			},
			wantLoads: 2,
		},
		{
			name: "different keys load separately",
			ttl:  time.Minute,
			run: func(t *testing.T, c *cache.Cache[int], _ *clock, load func(context.Context) (int, error)) {
				mustGet(t, c, "a", load, false)
				mustGet(t, c, "b", load, false)
			},
			wantLoads: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: time.Unix(1_700_000_000, 0)}
			c := cache.New[int](tt.ttl, clk.Now)
			var loads atomic.Int64
			tt.run(t, c, clk, func(context.Context) (int, error) { return int(loads.Add(1)), nil })
			if got := loads.Load(); got != tt.wantLoads {
				t.Fatalf("loads = %d, want %d", got, tt.wantLoads)
			}
		})
	}
}

func mustGet(t *testing.T, c *cache.Cache[int], key string, load func(context.Context) (int, error), wantHit bool) {
	t.Helper()
	_, hit, err := c.Get(t.Context(), key, load)
	if err != nil {
		t.Fatal(err)
	}
	if hit != wantHit {
		t.Fatalf("hit = %v, want %v", hit, wantHit)
	}
}

func TestConcurrentIdenticalGetsShareOneLoad(t *testing.T) {
	c := cache.New[int](0, nil)
	release := make(chan struct{})
	var loads atomic.Int64
	load := func(context.Context) (int, error) {
		loads.Add(1)
		<-release
		return 7, nil
	}
	const callers = 8
	var started, done sync.WaitGroup
	results := make(chan int, callers)
	for range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			v, _, err := c.Get(context.Background(), "k", load)
			if err != nil {
				t.Error(err)
			}
			results <- v
		}()
	}
	started.Wait()
	// Every caller has started; give them time to join the flight before it
	// ends (a caller arriving later would start a second load).
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	done.Wait()
	close(results)
	for v := range results {
		if v != 7 {
			t.Fatalf("got %d", v)
		}
	}
	if got := loads.Load(); got != 1 {
		t.Fatalf("loads = %d, want 1", got)
	}
}

func TestALoadStartedBeforeAnInvalidationIsNeitherStoredNorShared(t *testing.T) {
	c := cache.New[string](time.Minute, nil)
	inLoad, release := make(chan struct{}), make(chan struct{})
	staleDone := make(chan string)
	go func() {
		v, _, _ := c.Get(context.Background(), "k", func(context.Context) (string, error) {
			close(inLoad)
			<-release
			return "stale", nil
		})
		staleDone <- v
	}()
	<-inLoad
	c.Invalidate("k")
	fresh, _, err := c.Get(t.Context(), "k", func(context.Context) (string, error) { return "fresh", nil })
	if err != nil || fresh != "fresh" {
		t.Fatalf("a get after the invalidation = %q, %v; want fresh", fresh, err)
	}
	close(release)
	if v := <-staleDone; v != "stale" {
		t.Fatalf("the early caller got %q", v)
	}
	again, hit, _ := c.Get(t.Context(), "k", func(context.Context) (string, error) { return "reloaded", nil })
	if !hit || again != "fresh" {
		t.Fatalf("cache holds %q (hit %v); want the fresh value, not the stale one", again, hit)
	}
}

func TestErrorsAreNotCachedAndACancelledCallerStopsWaiting(t *testing.T) {
	c := cache.New[int](time.Minute, nil)
	boom := errors.New("boom")
	if _, _, err := c.Get(t.Context(), "k", func(context.Context) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, hit, _ := c.Get(t.Context(), "k", func(context.Context) (int, error) { return 1, nil }); hit {
		t.Fatal("an error was cached")
	}

	block := make(chan struct{})
	defer close(block)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := c.Get(ctx, "slow", func(context.Context) (int, error) { <-block; return 1, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestExpiredEntriesAreSwept(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	c := cache.New[int](time.Second, clk.Now)
	for i := range 100 {
		_, _, _ = c.Get(t.Context(), string(rune('a'+i%26))+string(rune('a'+i/26)), func(context.Context) (int, error) { return i, nil })
	}
	clk.Advance(2 * time.Second)
	for i := range 100 {
		_, _, _ = c.Get(t.Context(), "new"+string(rune('a'+i%26))+string(rune('a'+i/26)), func(context.Context) (int, error) { return i, nil })
	}
	if n := c.Len(); n > 100 {
		t.Fatalf("Len = %d: expired entries were kept", n)
	}
}
