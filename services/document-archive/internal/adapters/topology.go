package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream names from the shared conventions.
const (
	EventsStream  = "FLEXFLOW_EVENTS"
	SyncLogStream = "FLEXFLOW_SYNCLOG"
)

// streams are the streams document-archive reads or writes, configured
// exactly as the conventions (and contract-sync) configure them, so
// whichever service starts first creates them the same way.
func streams(replicas int) []jetstream.StreamConfig {
	r := max(replicas, 1)
	return []jetstream.StreamConfig{
		{
			Name: EventsStream, Subjects: []string{"flexflow.events.>"},
			Retention: jetstream.LimitsPolicy, MaxAge: 14 * 24 * time.Hour, Duplicates: time.Hour,
			Storage: jetstream.FileStorage, Replicas: r,
		},
		{
			Name: SyncLogStream, Subjects: []string{"flexflow.synclog.>"},
			Retention: jetstream.LimitsPolicy, MaxAge: 180 * 24 * time.Hour,
			Storage: jetstream.FileStorage, Replicas: r,
		},
	}
}

func buckets(replicas int) []jetstream.KeyValueConfig {
	r := max(replicas, 1)
	return []jetstream.KeyValueConfig{
		{Bucket: FailuresBucket, History: 1, Storage: jetstream.FileStorage, Replicas: r},
		{Bucket: DocumentsBucket, History: 1, Storage: jetstream.FileStorage, Replicas: r,
			Description: "document-archive: archive records, claims, leases"},
	}
}

// EnsureTopology creates the streams and buckets document-archive uses,
// leaving existing ones as they are (another service may own their
// settings).
func EnsureTopology(ctx context.Context, js jetstream.JetStream, replicas int) error {
	for _, cfg := range streams(replicas) {
		if _, err := js.Stream(ctx, cfg.Name); err == nil {
			continue
		} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("looking up stream %s: %w", cfg.Name, err)
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
		}
	}
	for _, cfg := range buckets(replicas) {
		if _, err := js.KeyValue(ctx, cfg.Bucket); err == nil {
			continue
		} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
			return fmt.Errorf("looking up bucket %s: %w", cfg.Bucket, err)
		}
		if _, err := js.CreateKeyValue(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return fmt.Errorf("creating bucket %s: %w", cfg.Bucket, err)
		}
	}
	return nil
}
