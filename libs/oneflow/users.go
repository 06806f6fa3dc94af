package oneflow

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// userIndexLoadTimeout bounds one page-through of the users, which runs
// detached from any one caller's context because concurrent callers share it.
const userIndexLoadTimeout = 2 * time.Minute

// ListUsers reads one page of the account's users. limit is 1 to 100 (0 means
// 100), offset 0 to 19900.
func (c *Client) ListUsers(ctx context.Context, limit, offset int) (UserPage, error) {
	if limit == 0 {
		limit = MaxPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return UserPage{}, fmt.Errorf("oneflow: ListUsers: limit must be 1 to %d", MaxPageLimit)
	}
	if offset < 0 || offset > MaxPageOffset {
		return UserPage{}, fmt.Errorf("oneflow: ListUsers: offset must be 0 to %d", MaxPageOffset)
	}
	query := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	cl, err := newCall(http.MethodGet, "/users", "/users", query, nil)
	if err != nil {
		return UserPage{}, err
	}
	var env listEnvelope[User]
	if err := c.doJSON(ctx, cl, &env); err != nil {
		return UserPage{}, err
	}
	return UserPage{Count: env.Count, Users: env.Data, HasNext: env.hasNext(offset)}, nil
}

// FindActiveUserByEmail finds the active user with this email, ignoring case
// and surrounding spaces; inactive users never match. found is false (and err
// nil) when no active user has the email. Lookups are served from an index of
// all active users that is loaded by paging through GET /users at most once
// per UserCacheTTL; concurrent lookups share one load.
func (c *Client) FindActiveUserByEmail(ctx context.Context, email string) (user User, found bool, err error) {
	key := normalizeEmail(email)
	if key == "" {
		return User{}, false, nil
	}
	index, err := c.activeUserIndex(ctx)
	if err != nil {
		return User{}, false, err
	}
	user, found = index[key]
	return user, found, nil
}

// InvalidateUserCache makes the next FindActiveUserByEmail reload the users,
// e.g. after someone activated a user in Oneflow.
func (c *Client) InvalidateUserCache() {
	c.users.invalidate()
}

func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// userDirectory caches the index of active users by normalized email.
type userDirectory struct {
	ttl   time.Duration
	group singleflight.Group

	mu       sync.Mutex
	index    map[string]User
	loadedAt time.Time
	// generation makes an invalidation win over a load that was already under
	// way when it happened.
	generation uint64
}

func newUserDirectory(ttl time.Duration) *userDirectory {
	return &userDirectory{ttl: ttl}
}

func (d *userDirectory) cached() (map[string]User, uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.index != nil && time.Since(d.loadedAt) < d.ttl {
		return d.index, d.generation, true
	}
	return nil, d.generation, false
}

func (d *userDirectory) store(index map[string]User, generation uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if generation == d.generation {
		d.index = index
		d.loadedAt = time.Now()
	}
}

func (d *userDirectory) invalidate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.index = nil
	d.generation++
}

func (c *Client) activeUserIndex(ctx context.Context) (map[string]User, error) {
	index, generation, ok := c.users.cached()
	if ok {
		return index, nil
	}
	ch := c.users.group.DoChan(strconv.FormatUint(generation, 10), func() (any, error) {
		// Detached from the first caller: its cancellation must not fail the
		// others waiting on the same load.
		loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), userIndexLoadTimeout)
		defer cancel()
		index, err := c.loadActiveUsers(loadCtx)
		if err != nil {
			return nil, err
		}
		c.users.store(index, generation)
		return index, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[string]User), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("oneflow: looking up a user: %w", context.Cause(ctx))
	}
}

// loadActiveUsers pages through every user and indexes the active ones; the
// first active user wins when two share an email.
func (c *Client) loadActiveUsers(ctx context.Context) (map[string]User, error) {
	index := make(map[string]User)
	for offset := 0; ; offset += usersPageLimit {
		if offset > MaxPageOffset {
			c.logger.WarnContext(ctx, "oneflow lists at most 20000 users; the rest cannot be looked up")
			return index, nil
		}
		page, err := c.ListUsers(ctx, usersPageLimit, offset)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			key := normalizeEmail(u.Email)
			if !u.Active || key == "" {
				continue
			}
			if _, taken := index[key]; !taken {
				index[key] = u
			}
		}
		if !page.HasNext || len(page.Users) == 0 {
			return index, nil
		}
	}
}
