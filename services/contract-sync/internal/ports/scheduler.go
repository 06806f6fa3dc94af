package ports

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flexflow/flexflow/services/contract-sync/internal/adapters/natsjs"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
)

// RetryScheduler watches the contract state bucket and, when parked work
// is due, queues a retry message on the contract's webhook subject (so it
// runs in order with the contract's other events). Every replica runs one;
// the retry's Nats-Msg-Id names the attempt, so it is queued once.
type RetryScheduler struct {
	kv     jetstream.KeyValue
	queue  app.WebhookQueue
	logger *slog.Logger
	// Republish is when a due retry is queued again if the worker has not
	// moved the contract on by then (a lost message must not strand it).
	Republish time.Duration
}

// NewRetryScheduler wires a scheduler.
func NewRetryScheduler(kv jetstream.KeyValue, queue app.WebhookQueue, logger *slog.Logger) (*RetryScheduler, error) {
	if kv == nil || queue == nil || logger == nil {
		return nil, errors.New("ports.NewRetryScheduler: nil dependency")
	}
	return &RetryScheduler{kv: kv, queue: queue, logger: logger, Republish: 10 * time.Minute}, nil
}

type dueRetry struct {
	at      time.Time
	attempt int
	// next is the parked work's NextAttempt: with the attempt it names the
	// parking episode, so every replica derives the same message id.
	next time.Time
	// rounds counts republishes: each needs its own id, or the stream's
	// duplicate window would drop it.
	rounds int
}

// Run schedules until ctx ends.
func (s *RetryScheduler) Run(ctx context.Context) error {
	watcher, err := s.kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = watcher.Stop() }()
	due := map[int64]dueRetry{}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	reset := func() {
		next := time.Now().Add(time.Minute)
		for _, d := range due {
			if d.at.Before(next) {
				next = d.at
			}
		}
		timer.Reset(max(time.Until(next), 0))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case entry, ok := <-watcher.Updates():
			if !ok {
				return errors.New("state watch closed")
			}
			if entry == nil {
				reset()
				continue // initial values delivered
			}
			id, err := strconv.ParseInt(entry.Key(), 10, 64)
			if err != nil {
				continue
			}
			if entry.Operation() != jetstream.KeyValuePut {
				delete(due, id)
				continue
			}
			st, err := natsjs.DecodeState(entry.Value())
			if err != nil || st.Pending == nil {
				delete(due, id)
				continue
			}
			if d, ok := due[id]; ok && d.attempt == st.Pending.Attempts && d.next.Equal(st.Pending.NextAttempt) {
				continue // the same parked work, already scheduled
			}
			due[id] = dueRetry{at: st.Pending.NextAttempt, attempt: st.Pending.Attempts, next: st.Pending.NextAttempt}
			reset()
		case <-timer.C:
			now := time.Now()
			for id, d := range due {
				if d.at.After(now) {
					continue
				}
				key := strconv.FormatInt(d.next.UnixNano(), 36) + "-" + strconv.Itoa(d.rounds)
				if err := s.queue.EnqueueRetry(ctx, id, d.attempt, key); err != nil {
					s.logger.WarnContext(ctx, "queueing a retry failed", slog.Int64("oneflow.contract.id", id),
						slog.String("error", err.Error()))
					d.at = now.Add(5 * time.Second)
				} else {
					d.at = now.Add(s.Republish)
					d.rounds++
				}
				due[id] = d
			}
			reset()
		}
	}
}
