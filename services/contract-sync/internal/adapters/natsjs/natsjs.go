// Package natsjs implements contract-sync's storage and messaging ports on
// NATS JetStream: the webhook stream (ingest, replay and retry messages),
// the contract state, callback and failure KV buckets, the sync log stream
// and the events stream for document-archive. Stream and bucket names and
// subjects follow the shared conventions.
package natsjs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/telemetry"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Names fixed by the shared conventions.
const (
	WebhookStream   = "FLEXFLOW_WEBHOOKS"
	EventsStream    = "FLEXFLOW_EVENTS"
	SyncLogStream   = "FLEXFLOW_SYNCLOG"
	CallbacksBucket = "flexflow_callbacks"
	ContractsBucket = "flexflow_contracts"
	FailuresBucket  = "flexflow_failures"

	SubjectPublished = "flexflow.events.contract.published"
	SubjectSigned    = "flexflow.events.contract.signed"

	// HeaderReplay marks an operator replay message.
	HeaderReplay = "Flexflow-Replay"
	// HeaderRetry marks a scheduled retry message; its value is the attempt.
	HeaderRetry = "Flexflow-Retry"

	// CallbackTTL is how long processed callback ids are remembered: well
	// beyond Oneflow's resend span and the stream's duplicate window.
	CallbackTTL = 72 * time.Hour
)

// Topology holds what Ensure creates.
type Topology struct {
	Replicas int
}

// Streams and buckets as the conventions describe them.
func (t Topology) streams() []jetstream.StreamConfig {
	r := max(t.Replicas, 1)
	return []jetstream.StreamConfig{
		{
			Name: WebhookStream, Subjects: []string{"flexflow.webhooks.oneflow.>"},
			Retention: jetstream.LimitsPolicy, MaxAge: 14 * 24 * time.Hour, Duplicates: time.Hour,
			Storage: jetstream.FileStorage, Replicas: r,
		},
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

func (t Topology) buckets() []jetstream.KeyValueConfig {
	r := max(t.Replicas, 1)
	return []jetstream.KeyValueConfig{
		{Bucket: CallbacksBucket, TTL: CallbackTTL, Storage: jetstream.FileStorage, Replicas: r},
		{Bucket: ContractsBucket, History: 1, Storage: jetstream.FileStorage, Replicas: r},
		{Bucket: FailuresBucket, History: 1, Storage: jetstream.FileStorage, Replicas: r},
	}
}

// owned are the streams and buckets contract-sync alone writes the
// configuration of; the shared ones (events, sync log, failures) are created
// when missing and otherwise left as another service configured them, so two
// services never flip a shared configuration back and forth.
var owned = map[string]bool{WebhookStream: true, CallbacksBucket: true, ContractsBucket: true}

// Ensure creates (or, for the ones contract-sync owns, updates) the streams
// and buckets contract-sync uses.
func Ensure(ctx context.Context, js jetstream.JetStream, t Topology) error {
	for _, cfg := range t.streams() {
		if !owned[cfg.Name] {
			if _, err := js.Stream(ctx, cfg.Name); err == nil {
				continue
			}
		}
		if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
			return err
		}
	}
	for _, cfg := range t.buckets() {
		if !owned[cfg.Bucket] {
			if _, err := js.KeyValue(ctx, cfg.Bucket); err == nil {
				continue
			}
		}
		if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
			return err
		}
	}
	return nil
}

// Store bundles the JetStream-backed ports.
type Store struct {
	js         jetstream.JetStream
	contracts  jetstream.KeyValue
	callbacks  jetstream.KeyValue
	failures   jetstream.KeyValue
	partitions int
	tracer     trace.Tracer
}

// Open binds the buckets (Ensure them first).
func Open(ctx context.Context, js jetstream.JetStream, partitions int, tracer trace.Tracer) (*Store, error) {
	if js == nil || tracer == nil || partitions < 1 {
		return nil, errors.New("natsjs.Open: nil dependency or no partitions")
	}
	s := &Store{js: js, partitions: partitions, tracer: tracer}
	var err error
	if s.contracts, err = js.KeyValue(ctx, ContractsBucket); err != nil {
		return nil, fmt.Errorf("bind %s: %w", ContractsBucket, err)
	}
	if s.callbacks, err = js.KeyValue(ctx, CallbacksBucket); err != nil {
		return nil, fmt.Errorf("bind %s: %w", CallbacksBucket, err)
	}
	if s.failures, err = js.KeyValue(ctx, FailuresBucket); err != nil {
		return nil, fmt.Errorf("bind %s: %w", FailuresBucket, err)
	}
	return s, nil
}

// Contracts returns the state bucket (the retry scheduler watches it).
func (s *Store) Contracts() jetstream.KeyValue { return s.contracts }

func stateKey(id int64) string { return strconv.FormatInt(id, 10) }

// Get implements app.StateStore.
func (s *Store) Get(ctx context.Context, contractID int64) (domain.State, error) {
	st, _, err := s.get(ctx, contractID)
	return st, err
}

func (s *Store) get(ctx context.Context, contractID int64) (domain.State, uint64, error) {
	var st domain.State
	entry, err := s.contracts.Get(ctx, stateKey(contractID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.State{ContractID: contractID}, 0, nil
	}
	if err != nil {
		return st, 0, fmt.Errorf("read contract state: %w", err)
	}
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		return st, 0, fmt.Errorf("decode contract state: %w", err)
	}
	return st, entry.Revision(), nil
}

// DecodeState decodes a state bucket value.
func DecodeState(b []byte) (domain.State, error) {
	var st domain.State
	err := json.Unmarshal(b, &st)
	return st, err
}

// Update implements app.StateStore with compare-and-set on the entry's
// revision, re-running fn on a conflict.
func (s *Store) Update(ctx context.Context, contractID int64, fn func(*domain.State) error) (domain.State, error) {
	for attempt := 0; ; attempt++ {
		st, rev, err := s.get(ctx, contractID)
		if err != nil {
			return st, err
		}
		if err := fn(&st); err != nil {
			return st, err
		}
		data, err := json.Marshal(st)
		if err != nil {
			return st, fmt.Errorf("encode contract state: %w", err)
		}
		if rev == 0 {
			_, err = s.contracts.Create(ctx, stateKey(contractID), data)
		} else {
			_, err = s.contracts.Update(ctx, stateKey(contractID), data, rev)
		}
		if err == nil {
			return st, nil
		}
		if !isConflict(err) || attempt >= 20 {
			return st, fmt.Errorf("write contract state: %w", err)
		}
	}
}

func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

var validKey = regexp.MustCompile(`^[-_=a-zA-Z0-9]{1,128}$`)

// callbackKey maps a callback id to a KV key; ids with characters a key
// cannot hold are hashed.
func callbackKey(id string) string {
	if validKey.MatchString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h_" + hex.EncodeToString(sum[:])
}

// Seen implements app.CallbackStore.
func (s *Store) Seen(ctx context.Context, callbackID string) (bool, error) {
	_, err := s.callbacks.Get(ctx, callbackKey(callbackID))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("read callback: %w", err)
}

// Remember implements app.CallbackStore.
func (s *Store) Remember(ctx context.Context, callbackID string) error {
	if _, err := s.callbacks.Put(ctx, callbackKey(callbackID), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("remember callback: %w", err)
	}
	return nil
}

// Put implements app.FailureStore.
func (s *Store) Put(ctx context.Context, f *contractsyncv1.ContractFailure) error {
	data, err := proto.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode failure: %w", err)
	}
	if _, err := s.failures.Put(ctx, stateKey(f.GetContractId()), data); err != nil {
		return fmt.Errorf("write failure: %w", err)
	}
	return nil
}

// Delete implements app.FailureStore. It removes only failures of
// contract-sync's flows: an archive failure belongs to document-archive.
func (s *Store) Delete(ctx context.Context, contractID int64) error {
	entry, err := s.failures.Get(ctx, stateKey(contractID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read failure: %w", err)
	}
	var f contractsyncv1.ContractFailure
	if err := proto.Unmarshal(entry.Value(), &f); err == nil && f.GetFlow() == eventsv1.Flow_FLOW_ARCHIVE {
		return nil
	}
	if err := s.failures.Delete(ctx, stateKey(contractID), jetstream.LastRevision(entry.Revision())); err != nil && !isConflict(err) {
		return fmt.Errorf("delete failure: %w", err)
	}
	return nil
}

// List implements app.FailureStore.
func (s *Store) List(ctx context.Context) ([]*contractsyncv1.ContractFailure, error) {
	lister, err := s.failures.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list failures: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []*contractsyncv1.ContractFailure
	for _, k := range keys {
		entry, err := s.failures.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read failure: %w", err)
		}
		var f contractsyncv1.ContractFailure
		if err := proto.Unmarshal(entry.Value(), &f); err != nil {
			continue // not ours to interpret; skip rather than fail the page
		}
		out = append(out, &f)
	}
	return out, nil
}

// Append implements app.SyncLog.
func (s *Store) Append(ctx context.Context, entry *eventsv1.SyncLogEntry) error {
	data, err := proto.Marshal(entry)
	if err != nil {
		return fmt.Errorf("encode sync log entry: %w", err)
	}
	msg := &nats.Msg{Subject: domain.SyncLogSubject(entry.GetContractId()), Data: data, Header: nats.Header{}}
	telemetry.InjectNATS(ctx, msg.Header)
	if _, err := s.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("append sync log: %w", err)
	}
	return nil
}

// Read implements app.SyncLog: an ordered consumer on the contract's subject
// from the start, until the last entry present when the read began.
func (s *Store) Read(ctx context.Context, contractID int64) ([]*eventsv1.SyncLogEntry, error) {
	subject := domain.SyncLogSubject(contractID)
	stream, err := s.js.Stream(ctx, SyncLogStream)
	if err != nil {
		return nil, fmt.Errorf("bind sync log: %w", err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, fmt.Errorf("read sync log: %w", err)
	}
	total := int(info.State.Subjects[subject])
	if total == 0 {
		return nil, nil
	}
	// Each read's consumer is deleted when the read ends: JetStream allows
	// 1,000 consumers per stream by default, and an ordered consumer left
	// to its inactivity threshold would hold its place for minutes, so a
	// few hundred reads a minute would turn the operator API off. The
	// short threshold cleans up after a process killed mid-read.
	cons, err := s.js.OrderedConsumer(ctx, SyncLogStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverAllPolicy,
		InactiveThreshold: 10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("read sync log: %w", err)
	}
	defer func() {
		if info := cons.CachedInfo(); info != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = s.js.DeleteConsumer(dctx, SyncLogStream, info.Name)
			cancel()
		}
	}()
	out := make([]*eventsv1.SyncLogEntry, 0, total)
	for got := 0; got < total; {
		// Asking for exactly what is left returns as soon as it arrived.
		batch, err := cons.Fetch(min(total-got, 256), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read sync log: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			var e eventsv1.SyncLogEntry
			if err := proto.Unmarshal(msg.Data(), &e); err == nil {
				out = append(out, &e)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("read sync log: %w", err)
		}
		if n == 0 {
			break // entries aged out while reading
		}
		got += n
	}
	return out, nil
}

func (s *Store) publish(ctx context.Context, subject, msgID string, m proto.Message, extra nats.Header) (*jetstream.PubAck, error) {
	data, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", subject, err)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	for k, v := range extra {
		msg.Header[k] = v
	}
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	ctx, span := telemetry.StartPublishSpan(ctx, s.tracer, msg)
	defer span.End()
	ack, err := s.js.PublishMsg(ctx, msg)
	if err != nil {
		span.RecordError(err)
		return nil, fmt.Errorf("publish to %s: %w", subject, err)
	}
	return ack, nil
}

// PublishContractPublished implements app.EventPublisher.
func (s *Store) PublishContractPublished(ctx context.Context, msgID string, ev *eventsv1.ContractPublished) error {
	_, err := s.publish(ctx, SubjectPublished, msgID, ev, nil)
	return err
}

// PublishContractSigned implements app.EventPublisher.
func (s *Store) PublishContractSigned(ctx context.Context, msgID string, ev *eventsv1.ContractSigned) error {
	_, err := s.publish(ctx, SubjectSigned, msgID, ev, nil)
	return err
}

// Enqueue implements app.WebhookQueue.
func (s *Store) Enqueue(ctx context.Context, req *contractsyncv1.ReceiveOneflowWebhookRequest) (bool, error) {
	ack, err := s.publish(ctx, domain.WebhookSubject(req.GetContract().GetId(), s.partitions), req.GetCallbackId(), req, nil)
	if err != nil {
		return false, err
	}
	return ack.Duplicate, nil
}

// EnqueueReplay implements app.WebhookQueue.
func (s *Store) EnqueueReplay(ctx context.Context, contractID int64) error {
	req := &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: &contractsyncv1.OneflowContractRef{Id: contractID}}
	_, err := s.publish(ctx, domain.WebhookSubject(contractID, s.partitions), "replay-"+uuid.NewString(), req,
		nats.Header{HeaderReplay: []string{"1"}})
	return err
}

// EnqueueRetry implements app.WebhookQueue. The message id names the
// attempt and its key, so schedulers on several replicas queue it once,
// while a contract parked again within the stream's duplicate window (its
// attempts counting from 1 again) still gets its retry.
func (s *Store) EnqueueRetry(ctx context.Context, contractID int64, attempt int, key string) error {
	req := &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: &contractsyncv1.OneflowContractRef{Id: contractID}}
	_, err := s.publish(ctx, domain.WebhookSubject(contractID, s.partitions),
		fmt.Sprintf("retry-%d-%d-%s", contractID, attempt, key), req,
		nats.Header{HeaderRetry: []string{strconv.Itoa(attempt)}})
	return err
}

// HasLaterFetchTrigger implements app.LaterMessages: it reads the newest
// message on the contract's webhook subject.
func (s *Store) HasLaterFetchTrigger(ctx context.Context, contractID int64, seq uint64, callbackID string) (bool, error) {
	stream, err := s.js.Stream(ctx, WebhookStream)
	if err != nil {
		return false, err
	}
	last, err := stream.GetLastMsgForSubject(ctx, domain.WebhookSubject(contractID, s.partitions))
	if err != nil {
		return false, err
	}
	if last.Sequence <= seq {
		return false, nil
	}
	if last.Header.Get(HeaderReplay) != "" {
		return true, nil
	}
	if last.Header.Get(HeaderRetry) != "" {
		return false, nil
	}
	var req contractsyncv1.ReceiveOneflowWebhookRequest
	if err := proto.Unmarshal(last.Data, &req); err != nil || req.GetCallbackId() == callbackID {
		return false, nil
	}
	for _, e := range req.GetEvents() {
		if flow, _ := domain.FlowForEvent(e.GetType()); flow == domain.FlowFetch {
			return true, nil
		}
	}
	return false, nil
}
