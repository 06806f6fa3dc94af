package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flexflow/flexflow/libs/natsx"
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

// buckets are the shared buckets document-archive writes to.
func buckets(replicas int) []jetstream.KeyValueConfig {
	r := max(replicas, 1)
	return []jetstream.KeyValueConfig{
		{Bucket: FailuresBucket, History: 1, Storage: jetstream.FileStorage, Replicas: r},
	}
}

func documentsBucket(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: DocumentsBucket, History: 1, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
		Description: "document-archive: archive records, claims, leases"}
}

// EnsureTopology creates the streams and buckets document-archive uses.
// Shared ones (the events and sync-log streams, the failures bucket) are
// created when missing and otherwise left as they are, like contract-sync
// does, so two services never flip each other's settings.
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
	// The documents bucket is document-archive's own: create or update it
	// (natsx retries while a cluster is still electing its leader).
	if _, err := natsx.EnsureKV(ctx, js, documentsBucket(replicas)); err != nil {
		return err
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
