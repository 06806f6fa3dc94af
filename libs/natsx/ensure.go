package natsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// attemptTimeout bounds one JetStream API request: a request sent while a
	// cluster is still electing its meta leader is never answered, and must
	// not hold start-up until the caller's deadline.
	attemptTimeout = 3 * time.Second
	// maxAttempts bounds retries when ctx has no deadline.
	maxAttempts = 30
	// maxPause caps the wait between attempts.
	maxPause = time.Second
)

// EnsureStream creates the stream, or updates it to cfg when it exists with
// another config, and returns it. Several processes may call it at the same
// time at start; it retries while JetStream is still starting (cluster
// without a meta leader, request unanswered) and when another process won a
// create race, until ctx ends.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	return ensure(ctx, "stream "+cfg.Name, func(ctx context.Context) (jetstream.Stream, error) {
		// Create first: the server answers a create with the config the
		// stream already has as a no-op, so a restart neither rewrites the
		// stream's metadata nor replaces its config while another process
		// adds a consumer to it (nats-server 2.15 reads that config unlocked
		// there). Only a changed config is an update.
		s, err := js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return js.UpdateStream(ctx, cfg)
		}
		return s, err
	})
}

// EnsureConsumer creates the durable consumer on stream, or updates it to
// cfg, and returns it. The server applies create-or-update atomically, so
// concurrent callers all succeed; it retries like EnsureStream.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, stream string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	name := cfg.Durable
	if name == "" {
		name = cfg.Name
	}
	if name == "" {
		return nil, fmt.Errorf("natsx: ensure consumer on %s: a durable name is required", stream)
	}
	return ensure(ctx, "consumer "+name+" on "+stream, func(ctx context.Context) (jetstream.Consumer, error) {
		return js.CreateOrUpdateConsumer(ctx, stream, cfg)
	})
}

// EnsureKV creates the key-value bucket, or updates it to cfg, and returns
// it. It retries like EnsureStream.
func EnsureKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	return ensure(ctx, "bucket "+cfg.Bucket, func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, cfg)
	})
}

func ensure[T any](ctx context.Context, what string, op func(context.Context) (T, error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, attemptTimeout)
		v, err := op(attemptCtx)
		cancel()
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil || !retryable(err) || attempt >= maxAttempts {
			return zero, fmt.Errorf("natsx: ensure %s: %w", what, err)
		}
		pause := time.Duration(attempt) * 50 * time.Millisecond
		if pause > maxPause {
			pause = maxPause
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return zero, fmt.Errorf("natsx: ensure %s: %w (last error: %v)", what, ctx.Err(), err)
		}
	}
}

// retryable reports errors that go away by trying again: another process
// changed the same object between our look and our write, or JetStream is
// not answering yet.
func retryable(err error) bool {
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrConsumerExists) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamNameInUse, jetstream.JSErrCodeStreamNotFound,
			jetstream.JSErrCodeConsumerAlreadyExists, jetstream.JSErrCodeConsumerNotFound, jetstream.JSErrCodeConsumerExists:
			return true
		}
		// 503: "JetStream system temporarily unavailable" while a cluster
		// forms or moves its leader.
		return apiErr.Code == 503
	}
	return false
}
