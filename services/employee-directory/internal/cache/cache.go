// Package cache is employee-directory's read-through cache: values live for a
// short TTL, concurrent loads of one key are collapsed into a single upstream
// call (singleflight), and an invalidation guarantees that no load started
// before it is served or stored after it. The last rule is what lets writes
// (UpdateEmployee, UpsertEmploymentPeriod) rely on the next read being fresh.
package cache

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Cache maps string keys to values of type V. A zero or negative TTL stores
// nothing but still collapses concurrent identical loads. The zero value is
// not usable; call New.
type Cache[V any] struct {
	ttl time.Duration
	now func() time.Time

	group singleflight.Group

	mu        sync.Mutex
	entries   map[string]entry[V]
	epoch     uint64 // bumped by every invalidation
	nextSweep int
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// minSweep is the map size below which expired entries are not swept.
const minSweep = 64

// New builds a cache whose entries live for ttl. now is the clock (nil:
// time.Now); tests pass their own to expire entries without sleeping.
func New[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{ttl: ttl, now: now, entries: map[string]entry[V]{}, nextSweep: minSweep}
}

// Get returns the cached value of key, or loads it. Concurrent Gets of one
// key share one load; each caller still stops waiting when its own ctx ends.
// The shared load runs with the first caller's values (trace, logger) but
// without its cancellation, so one impatient caller does not fail the others;
// load must bound its own duration (the Flex HRM client does, per attempt and
// per retry budget). Errors are never cached.
func (c *Cache[V]) Get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, bool, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.value, true, nil
	}
	epoch := c.epoch
	c.mu.Unlock()

	// The epoch is part of the flight key: a Get after an invalidation never
	// joins a load that started before it.
	flight := strconv.FormatUint(epoch, 10) + "\x00" + key
	ch := c.group.DoChan(flight, func() (any, error) {
		v, err := load(context.WithoutCancel(ctx))
		if err == nil {
			c.store(key, v, epoch)
		}
		return v, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			var zero V
			return zero, false, res.Err
		}
		return res.Val.(V), false, nil
	case <-ctx.Done():
		var zero V
		return zero, false, context.Cause(ctx)
	}
}

// store keeps v unless an invalidation happened since the load began.
func (c *Cache[V]) store(key string, v V, epoch uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	now := c.now()
	c.entries[key] = entry[V]{value: v, expires: now.Add(c.ttl)}
	if len(c.entries) >= c.nextSweep {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		c.nextSweep = max(minSweep, 2*len(c.entries))
	}
}

// Invalidate drops keys and makes every load already in flight (of any key)
// neither stored nor shared with later callers.
func (c *Cache[V]) Invalidate(keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, k := range keys {
		delete(c.entries, k)
	}
}

// Len is the number of stored entries, expired ones included until swept.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
