package ports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/flexflow/flexflow/libs/telemetry"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// Event subjects on FLEXFLOW_EVENTS (shared conventions).
const (
	SubjectPublished = "flexflow.events.contract.published"
	SubjectSigned    = "flexflow.events.contract.signed"
	// ConsumerName is the durable consumer of document-archive.
	ConsumerName = "document-archive"
)

// Span attribute keys; they carry ids and outcomes, never personal data.
const (
	attrContractID = "oneflow.contract.id"
	attrStatus     = "flexflow.archive.status"
	attrGeneration = "flexflow.archive.generation"
	attrOutcome    = "flexflow.archive.outcome"
)

// ConsumerSettings bound the consumer. AckWait must exceed the longest
// step between two in-progress acks; the handler sends one every AckWait/3
// while it works, so a long upload never looks abandoned.
type ConsumerSettings struct {
	Workers       int
	MaxAckPending int
	AckWait       time.Duration
	// BusyDelay is the wait before retrying a job another worker holds.
	BusyDelay time.Duration
}

// ConsumerConfig is the durable consumer's configuration: explicit acks,
// bounded in flight, and no delivery cap because the archiver decides when
// to give up. The backoff between attempts is the growing delay each
// NakWithDelay carries; the consumer sets no BackOff list, because the
// server then times naked messages by that list and stretches short nak
// delays to the next step of it (measured: a 40 ms nak came back after 1 s).
func ConsumerConfig(s ConsumerSettings) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        ConsumerName,
		Description:    "document-archive: archive contract PDFs into Flex HRM",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        s.AckWait,
		MaxDeliver:     -1,
		MaxAckPending:  s.MaxAckPending,
		FilterSubjects: []string{SubjectPublished, SubjectSigned},
	}
}

// Archiver is the use case the consumer drives.
type Archiver interface {
	Archive(ctx context.Context, req app.Request) (app.Result, error)
	RetryPolicy() domain.RetryPolicy
}

// SyncLog records what the consumer decides on its own (undecodable
// events).
type SyncLog interface {
	Append(ctx context.Context, e app.LogEntry) error
}

// EventConsumer pulls contract-sync's events with a fixed number of
// workers, each holding at most one message, so nothing waits in a buffer
// while its ack timer runs.
type EventConsumer struct {
	consumer jetstream.Consumer
	archiver Archiver
	log      SyncLog
	logger   *slog.Logger
	tracer   trace.Tracer
	settings ConsumerSettings
}

// NewEventConsumer wires the consumer; every dependency is required.
func NewEventConsumer(consumer jetstream.Consumer, archiver Archiver, log SyncLog, logger *slog.Logger, tracer trace.Tracer, s ConsumerSettings) (*EventConsumer, error) {
	switch {
	case consumer == nil, archiver == nil, log == nil, logger == nil, tracer == nil:
		return nil, errors.New("ports: event consumer dependency is nil")
	case s.Workers < 1 || s.AckWait <= 0:
		return nil, errors.New("ports: event consumer needs at least one worker and a positive AckWait")
	}
	if s.BusyDelay <= 0 {
		s.BusyDelay = time.Second
	}
	return &EventConsumer{consumer: consumer, archiver: archiver, log: log, logger: logger, tracer: tracer, settings: s}, nil
}

// Run consumes until ctx ends, then waits for the workers to finish what
// they hold.
func (c *EventConsumer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range c.settings.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				msg, err := c.consumer.Next(jetstream.FetchContext(ctx))
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
						c.logger.WarnContext(ctx, "pulling an event failed", "error", err)
						sleep(ctx, time.Second)
					}
					continue
				}
				c.Handle(ctx, msg)
			}
		})
	}
	wg.Wait()
}

// Handle processes one event message and acks, naks or terminates it.
func (c *EventConsumer) Handle(ctx context.Context, msg jetstream.Msg) {
	ctx, span := telemetry.StartConsumeSpan(ctx, c.tracer, msg)
	defer span.End()

	req, err := decodeEvent(msg)
	if err != nil {
		c.poison(ctx, span, msg, err)
		return
	}
	span.SetAttributes(
		attribute.Int64(attrContractID, req.Key.ContractID),
		attribute.String(attrStatus, req.Key.Status.String()),
		attribute.Int(attrGeneration, int(req.Key.Generation)),
	)
	md, err := msg.Metadata()
	if err != nil {
		c.poison(ctx, span, msg, fmt.Errorf("reading message metadata: %w", err))
		return
	}
	req.Retry = &app.Attempt{Number: int(md.NumDelivered), FirstTry: md.Timestamp}

	stop := c.keepAlive(ctx, msg)
	res, err := c.archiver.Archive(ctx, req)
	stop()

	var retry *app.RetryError
	switch {
	case err == nil:
		outcome := "uploaded"
		if res.Outcome == app.AlreadyArchived {
			outcome = "already_archived"
		}
		span.SetAttributes(attribute.String(attrOutcome, outcome))
		c.settle(ctx, "ack", msg.DoubleAck(ctx))
	case errors.Is(err, app.ErrHalted):
		// A test hook simulates a crash: leave the message unacked, as a
		// killed process would.
		span.SetAttributes(attribute.String(attrOutcome, "halted"))
	case ctx.Err() != nil:
		span.SetAttributes(attribute.String(attrOutcome, "interrupted"))
		c.settle(ctx, "nak", msg.Nak())
	case errors.As(err, &retry):
		span.SetAttributes(attribute.String(attrOutcome, "retry"))
		c.settle(ctx, "nak", msg.NakWithDelay(retry.Delay))
	case errors.Is(err, app.ErrBusy):
		span.SetAttributes(attribute.String(attrOutcome, "busy"))
		c.settle(ctx, "nak", msg.NakWithDelay(c.settings.BusyDelay))
	case app.IsPermanent(err):
		span.SetAttributes(attribute.String(attrOutcome, "failed"))
		span.SetStatus(codes.Error, "archive failed for good")
		c.settle(ctx, "term", msg.TermWithReason("archive failed for good; see the sync log"))
	default:
		span.SetAttributes(attribute.String(attrOutcome, "retry"))
		c.settle(ctx, "nak", msg.NakWithDelay(c.archiver.RetryPolicy().Delay(req.Retry.Number)))
	}
}

// keepAlive tells JetStream the message is being worked on every AckWait/3
// until stop is called.
func (c *EventConsumer) keepAlive(ctx context.Context, msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(c.settings.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					c.logger.WarnContext(ctx, "telling JetStream the event is in progress failed", "error", err)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// poison terminates a message that can never be processed and records it
// in the contract's sync log when its id names the contract.
func (c *EventConsumer) poison(ctx context.Context, span trace.Span, msg jetstream.Msg, cause error) {
	span.SetStatus(codes.Error, "undecodable event")
	span.SetAttributes(attribute.String(attrOutcome, "poison"))
	c.logger.ErrorContext(ctx, "terminating an event that cannot be processed", "subject", msg.Subject(), "error", cause)
	if key, err := domain.ParseEventMsgID(msg.Headers().Get(jetstream.MsgIDHeader)); err == nil {
		span.SetAttributes(attribute.Int64(attrContractID, key.ContractID))
		entry := app.LogEntry{ContractID: key.ContractID, Step: key.Status.Step(), Outcome: app.OutcomeFailed,
			Reason: "the archive event could not be decoded and was dropped; replay the contract"}
		if err := c.log.Append(ctx, entry); err != nil {
			c.logger.ErrorContext(ctx, "recording a dropped event", "error", err)
		}
	}
	c.settle(ctx, "term", msg.TermWithReason("undecodable event"))
}

func (c *EventConsumer) settle(ctx context.Context, what string, err error) {
	if err != nil {
		c.logger.WarnContext(ctx, "settling an event failed; JetStream redelivers it", "action", what, "error", err)
	}
}

// decodeEvent turns a published or signed event into an archive request.
func decodeEvent(msg jetstream.Msg) (app.Request, error) {
	var (
		id        int64
		gen       int32
		number    string
		employee  string
		company   string
		status    domain.Status
		eventType string
	)
	switch msg.Subject() {
	case SubjectPublished:
		var e eventsv1.ContractPublished
		if err := proto.Unmarshal(msg.Data(), &e); err != nil {
			return app.Request{}, fmt.Errorf("decoding ContractPublished: %w", err)
		}
		id, gen, number, employee, company = e.GetContractId(), e.GetGeneration(), e.GetEmployeeNumber(), e.GetFlexEmployeeId(), e.GetFlexCompanyId()
		status, eventType = domain.StatusPending, "contract:publish"
	case SubjectSigned:
		var e eventsv1.ContractSigned
		if err := proto.Unmarshal(msg.Data(), &e); err != nil {
			return app.Request{}, fmt.Errorf("decoding ContractSigned: %w", err)
		}
		id, gen, number, employee, company = e.GetContractId(), e.GetGeneration(), e.GetEmployeeNumber(), e.GetFlexEmployeeId(), e.GetFlexCompanyId()
		status, eventType = domain.StatusSigned, "contract:sign"
	default:
		return app.Request{}, fmt.Errorf("unexpected subject %q", msg.Subject())
	}
	key := domain.JobKey{ContractID: id, Status: status, Generation: gen}
	if err := key.Validate(); err != nil {
		return app.Request{}, fmt.Errorf("event: %w", err)
	}
	return app.Request{
		Key:       key,
		Target:    domain.Target{EmployeeNumber: number, FlexEmployeeID: employee, FlexCompanyID: company},
		EventType: eventType,
	}, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
