package adapters

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// KVLease gives one process at a time a job, across replicas, with a
// compare-and-set on a KV key. A lease names its owner and expiry and is
// renewed while held, so one left by a killed process is taken over once
// it expires.
type KVLease struct {
	kv     jetstream.KeyValue
	ttl    time.Duration
	owner  string
	logger *slog.Logger
	now    func() time.Time
}

// NewKVLease builds leases of the given time to live in the documents
// bucket.
func NewKVLease(kv jetstream.KeyValue, ttl time.Duration, logger *slog.Logger) (*KVLease, error) {
	switch {
	case kv == nil:
		return nil, errors.New("adapters: documents KV is nil")
	case logger == nil:
		return nil, errors.New("adapters: logger is nil")
	case ttl <= 0:
		return nil, errors.New("adapters: lease TTL must be positive")
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("adapters: lease owner id: %w", err)
	}
	return &KVLease{kv: kv, ttl: ttl, owner: hex.EncodeToString(b), logger: logger, now: time.Now}, nil
}

type leaseValue struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// Acquire takes the job's lease, or answers app.ErrBusy while another live
// process holds it.
func (l *KVLease) Acquire(ctx context.Context, key domain.JobKey) (func(), error) {
	k := prefixLease + key.String()
	rev, err := l.take(ctx, k)
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Go(func() {
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.ttl)
				next, err := l.kv.Update(uctx, k, l.value(), rev)
				cancel()
				if err == nil {
					rev = next
				}
				mu.Unlock()
				if err != nil {
					l.logger.WarnContext(ctx, "renewing an archive lease failed", "job", key.String(), "error", err)
				}
			}
		}
	})
	return func() {
		close(stop)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := l.kv.Delete(rctx, k, jetstream.LastRevision(rev)); err != nil {
			l.logger.WarnContext(ctx, "releasing an archive lease failed; it expires by itself", "job", key.String(), "error", err)
		}
	}, nil
}

func (l *KVLease) value() []byte {
	b, _ := json.Marshal(leaseValue{Owner: l.owner, Expires: l.now().Add(l.ttl)})
	return b
}

func (l *KVLease) take(ctx context.Context, k string) (uint64, error) {
	rev, err := l.kv.Create(ctx, k, l.value())
	if err == nil {
		return rev, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("taking the archive lease: %w", err)
	}
	e, err := l.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, app.ErrBusy // released in between: the retry takes it
	}
	if err != nil {
		return 0, fmt.Errorf("reading the archive lease: %w", err)
	}
	var held leaseValue
	if json.Unmarshal(e.Value(), &held) == nil && held.Owner != l.owner && l.now().Before(held.Expires) {
		return 0, app.ErrBusy
	}
	// Expired, unreadable, or left by this very process: take it over,
	// unless someone else is quicker.
	rev, err = l.kv.Update(ctx, k, l.value(), e.Revision())
	if err != nil {
		return 0, app.ErrBusy
	}
	return rev, nil
}
