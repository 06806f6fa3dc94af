package ports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/telemetry"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/adapters/natsjs"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Handler runs one delivery (app.Worker).
type Handler interface {
	Handle(ctx context.Context, d app.Delivery) error
}

// ConsumerConfig tunes the partitioned consumers.
type ConsumerConfig struct {
	Partitions int
	// AckWait is the first redelivery wait; it must exceed the longest
	// upstream call (in-progress acks extend it while work runs).
	AckWait time.Duration
	// MaxDeliver bounds redeliveries of one message.
	MaxDeliver int
	// MaxInFlight bounds messages handled at once across partitions.
	MaxInFlight int
}

// Consumers pulls each partition's durable consumer and hands messages to
// the worker, one at a time per partition (MaxAckPending 1).
type Consumers struct {
	js      jetstream.JetStream
	handler Handler
	synclog app.SyncLog
	cfg     ConsumerConfig
	tracer  trace.Tracer
	logger  *slog.Logger

	sem         chan struct{}
	wg          sync.WaitGroup
	workCtx     context.Context
	cancelAll   context.CancelFunc
	pullCtx     context.Context
	stopPulling context.CancelFunc
}

// NewConsumers wires the consumers.
func NewConsumers(js jetstream.JetStream, handler Handler, synclog app.SyncLog, cfg ConsumerConfig, tracer trace.Tracer, logger *slog.Logger) (*Consumers, error) {
	if js == nil || handler == nil || synclog == nil || tracer == nil || logger == nil {
		return nil, errors.New("ports.NewConsumers: nil dependency")
	}
	if cfg.Partitions < 1 {
		cfg.Partitions = 16
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = time.Minute
	}
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = 10
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = cfg.Partitions
	}
	return &Consumers{js: js, handler: handler, synclog: synclog, cfg: cfg, tracer: tracer, logger: logger,
		sem: make(chan struct{}, cfg.MaxInFlight)}, nil
}

// ConsumerConfigFor is the durable consumer of one partition.
func ConsumerConfigFor(partition int, cfg ConsumerConfig) jetstream.ConsumerConfig {
	// Redelivery after a crash backs off: AckWait, then 2x, 4x, ... capped.
	var backoff []time.Duration
	for d := cfg.AckWait; len(backoff) < min(cfg.MaxDeliver-1, 6); d *= 2 {
		backoff = append(backoff, min(d, 10*cfg.AckWait))
	}
	return jetstream.ConsumerConfig{
		Durable:       domain.ConsumerName(partition),
		FilterSubject: domain.PartitionFilter(partition),
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1,
		AckWait:       cfg.AckWait,
		BackOff:       backoff,
		MaxDeliver:    cfg.MaxDeliver,
	}
}

// Start creates (or updates) the consumers and starts pulling.
func (c *Consumers) Start(ctx context.Context) error {
	c.workCtx, c.cancelAll = context.WithCancel(context.WithoutCancel(ctx))
	c.pullCtx, c.stopPulling = context.WithCancel(c.workCtx)
	for p := range c.cfg.Partitions {
		cons, err := natsx.EnsureConsumer(ctx, c.js, natsjs.WebhookStream, ConsumerConfigFor(p, c.cfg))
		if err != nil {
			return fmt.Errorf("create consumer %s: %w", domain.ConsumerName(p), err)
		}
		c.wg.Add(1)
		go c.loop(cons)
	}
	return nil
}

// Stop drains the consumers: no new messages are pulled, in-flight ones
// finish until ctx ends, after which they are abandoned (and redelivered).
func (c *Consumers) Stop(ctx context.Context) {
	if c.stopPulling == nil {
		return
	}
	c.stopPulling()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		c.cancelAll()
		<-done
	}
	c.cancelAll()
}

// loop fetches one message at a time and asks for the next only after the
// previous one is acknowledged: with MaxAckPending 1 an outstanding pull
// would only wait on the server anyway, and a fresh short pull per message
// never stalls on a pull request that went astray.
func (c *Consumers) loop(cons jetstream.Consumer) {
	defer c.wg.Done()
	for c.pullCtx.Err() == nil {
		fetchCtx, cancel := context.WithTimeout(c.pullCtx, 5*time.Second)
		msg, err := cons.Next(jetstream.FetchContext(fetchCtx))
		cancel()
		if err != nil {
			if c.pullCtx.Err() != nil {
				return
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			c.logger.Warn("pull failed", slog.String("error", err.Error()))
			select {
			case <-c.pullCtx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		c.sem <- struct{}{}
		c.handle(c.workCtx, msg)
		<-c.sem
	}
}

func contractIDFromSubject(subject string) int64 {
	i := strings.LastIndexByte(subject, '.')
	if i < 0 {
		return 0
	}
	id, _ := strconv.ParseInt(subject[i+1:], 10, 64)
	return id
}

func (c *Consumers) handle(ctx context.Context, msg jetstream.Msg) {
	ctx, span := telemetry.StartConsumeSpan(ctx, c.tracer, msg)
	defer span.End()
	var numDelivered, seq uint64 = 1, 0
	if md, err := msg.Metadata(); err == nil {
		numDelivered, seq = md.NumDelivered, md.Sequence.Stream
	}
	var req contractsyncv1.ReceiveOneflowWebhookRequest
	if err := proto.Unmarshal(msg.Data(), &req); err != nil || req.GetContract().GetId() <= 0 {
		// Poison: it can never succeed. Terminate and say so in the log of
		// the contract the subject names.
		if id := contractIDFromSubject(msg.Subject()); id > 0 {
			_ = c.synclog.Append(ctx, &eventsv1.SyncLogEntry{
				ContractId: id, Time: timestamppb.Now(), Flow: eventsv1.Flow_FLOW_INGEST, Step: "decode_notification",
				Outcome: eventsv1.Outcome_OUTCOME_FAILED, Reason: "stored notification could not be decoded; dropped",
				Service: "contract-sync",
			})
		}
		c.logger.ErrorContext(ctx, "undecodable webhook message terminated", slog.String("subject", msg.Subject()))
		_ = msg.Term()
		return
	}
	d := app.Delivery{
		ContractID: req.GetContract().GetId(), CallbackID: req.GetCallbackId(),
		Kind: app.KindWebhook, NumDelivered: numDelivered, StreamSeq: seq,
	}
	for _, e := range req.GetEvents() {
		d.Events = append(d.Events, app.Event{ID: e.GetId(), Type: e.GetType()})
	}
	h := msg.Headers()
	switch {
	case h.Get(natsjs.HeaderReplay) != "":
		d.Kind = app.KindReplay
	case h.Get(natsjs.HeaderRetry) != "":
		d.Kind = app.KindRetry
		d.RetryAttempt, _ = strconv.Atoi(h.Get(natsjs.HeaderRetry))
	case d.CallbackID == "":
		_ = msg.Term()
		return
	}

	// In-progress acks keep a long flow from being redelivered under it.
	// The heartbeat has ended before the message is acked or nacked.
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(max(c.cfg.AckWait/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	err := c.handler.Handle(ctx, d)
	stopHeartbeat()
	<-hbDone
	if err != nil {
		span.RecordError(err)
		if errors.Is(err, app.ErrSimulatedCrash) || ctx.Err() != nil {
			// As a killed process would: no ack; the AckWait redelivers.
			return
		}
		c.logger.WarnContext(ctx, "delivery will be retried", slog.Int64("oneflow.contract.id", d.ContractID),
			slog.String("error", err.Error()))
		_ = msg.NakWithDelay(min(time.Duration(numDelivered)*time.Second, 30*time.Second))
		return
	}
	if err := msg.Ack(); err != nil {
		c.logger.WarnContext(ctx, "ack failed; the message will come again and be recognised",
			slog.String("error", err.Error()))
	}
}
