package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/timestamppb"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Span attribute keys; values never carry personal data.
const (
	AttrContractID   = attribute.Key("oneflow.contract.id")
	AttrEventType    = attribute.Key("oneflow.event.type")
	AttrFlow         = attribute.Key("flexflow.flow")
	AttrStepOutcome  = attribute.Key("flexflow.step.outcome")
	AttrStep         = attribute.Key("flexflow.step")
	serviceName      = "contract-sync"
	defaultTypeName  = "Flex HRM"
	templateCacheTTL = 10 * time.Minute
)

// ErrSimulatedCrash is returned by a test hook to stop a flow between a side
// effect and its state write, as a killed process would. The worker returns
// it without writing anything, so the message is delivered again.
var ErrSimulatedCrash = errors.New("simulated crash")

// Hooks let tests interrupt flows; nil hooks do nothing.
type Hooks struct {
	// AfterSideEffect runs after each upstream write, before the state
	// records it. Returning ErrSimulatedCrash abandons the delivery.
	AfterSideEffect func(ctx context.Context, contractID int64, step string) error
}

// WorkerConfig tunes the worker.
type WorkerConfig struct {
	// TemplateTypeName is the Oneflow template type whose contracts flexflow
	// handles ("Flex HRM").
	TemplateTypeName string
	// InlineAttempts is how often a delivery is tried before its work is
	// parked (at least 1).
	InlineAttempts int
	// InlineBaseDelay is the first wait between inline attempts; it doubles.
	InlineBaseDelay time.Duration
	// Retry is the schedule for parked work and its total budget.
	Retry domain.RetryPolicy
	// RateLimitedInlineWait is how long a delivery refused for load (429)
	// keeps waiting in line, honouring the upstream's Retry-After, before
	// its work is parked.
	RateLimitedInlineWait time.Duration
	// CrashLoopDeliveries: a message delivered more often than this (the
	// worker died while handling it) is parked instead of run again inline.
	CrashLoopDeliveries uint64
	// Now is the clock (time.Now when nil).
	Now   func() time.Time
	Hooks Hooks
}

// LaterMessages looks ahead in a contract's queue.
type LaterMessages interface {
	// HasLaterFetchTrigger reports whether a message stored after seq for
	// the contract, from another callback, carries a fetch trigger
	// (contract:create or data_field:update) or is a replay.
	HasLaterFetchTrigger(ctx context.Context, contractID int64, seq uint64, callbackID string) (bool, error)
}

// WorkerDeps are the worker's collaborators. Archive may be nil: replay then
// re-emits events instead of asking document-archive directly. Later may be
// nil: every fetch trigger then reads the contract.
type WorkerDeps struct {
	Later     LaterMessages
	Oneflow   Oneflow
	Directory Directory
	Archive   Archive
	States    StateStore
	Callbacks CallbackStore
	SyncLog   SyncLog
	Events    EventPublisher
	Failures  FailureStore
	Tracer    trace.Tracer
	Logger    *slog.Logger
}

// Worker runs the flows for delivered notifications, one contract at a time
// (the partitioned consumers guarantee that), guarding every side effect with
// the contract's state.
type Worker struct {
	cfg WorkerConfig
	WorkerDeps

	mu        sync.Mutex
	rnd       *rand.Rand
	templates map[int64]cachedTemplate
}

type cachedTemplate struct {
	tpl     Template
	fetched time.Time
}

// NewWorker wires a Worker, filling defaults.
func NewWorker(cfg WorkerConfig, deps WorkerDeps) (*Worker, error) {
	if deps.Oneflow == nil || deps.Directory == nil || deps.States == nil || deps.Callbacks == nil ||
		deps.SyncLog == nil || deps.Events == nil || deps.Failures == nil || deps.Tracer == nil || deps.Logger == nil {
		return nil, errors.New("app.NewWorker: nil dependency")
	}
	if cfg.TemplateTypeName == "" {
		cfg.TemplateTypeName = defaultTypeName
	}
	if cfg.InlineAttempts < 1 {
		cfg.InlineAttempts = 3
	}
	if cfg.InlineBaseDelay <= 0 {
		cfg.InlineBaseDelay = time.Second
	}
	if cfg.Retry.Budget <= 0 {
		cfg.Retry.Budget = 2*time.Hour + 15*time.Minute
	}
	if cfg.Retry.BaseDelay <= 0 {
		cfg.Retry.BaseDelay = 30 * time.Second
	}
	if cfg.Retry.MaxDelay <= 0 {
		cfg.Retry.MaxDelay = 15 * time.Minute
	}
	if cfg.RateLimitedInlineWait <= 0 {
		cfg.RateLimitedInlineWait = 2 * time.Minute
	}
	if cfg.CrashLoopDeliveries == 0 {
		cfg.CrashLoopDeliveries = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{
		cfg: cfg, WorkerDeps: deps,
		rnd:       rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)),
		templates: map[int64]cachedTemplate{},
	}, nil
}

// DeliveryKind tells webhooks from replays and scheduled retries.
type DeliveryKind int

// Delivery kinds.
const (
	KindWebhook DeliveryKind = iota + 1
	KindReplay
	KindRetry
)

// Event is one Oneflow event of a notification.
type Event struct {
	ID   int64
	Type string
}

// Delivery is one message from the webhook stream.
type Delivery struct {
	ContractID   int64
	CallbackID   string
	Events       []Event
	Kind         DeliveryKind
	RetryAttempt int
	NumDelivered uint64
	// StreamSeq is the message's position in the webhook stream.
	StreamSeq uint64
}

// onlyFetchTriggers reports whether every event only asks for a fetch.
func (d Delivery) onlyFetchTriggers() bool {
	if d.Kind != KindWebhook || len(d.Events) == 0 {
		return false
	}
	for _, e := range d.Events {
		if f, _ := domain.FlowForEvent(e.Type); f != domain.FlowFetch {
			return false
		}
	}
	return true
}

func (d Delivery) pendingEvents() []domain.PendingEvent {
	if d.Kind == KindReplay {
		return []domain.PendingEvent{{Type: domain.FlowReplay, Replay: true}}
	}
	out := make([]domain.PendingEvent, 0, len(d.Events))
	for _, e := range d.Events {
		out = append(out, domain.PendingEvent{Type: e.Type, CallbackID: d.CallbackID, EventID: e.ID})
	}
	return out
}

// flowError remembers which flow failed.
type flowError struct {
	flow string
	err  error
}

func (e *flowError) Error() string { return e.flow + ": " + e.err.Error() }
func (e *flowError) Unwrap() error { return e.err }

func flowOf(err error) string {
	var fe *flowError
	if errors.As(err, &fe) {
		return fe.flow
	}
	return ""
}

// Handle runs a delivery. A nil error means the message may be acked: its
// work is done, parked for a scheduled retry, or recorded as failed. An error
// means the message must be delivered again (the worker could not even record
// what happened, or a test simulated a crash).
func (w *Worker) Handle(ctx context.Context, d Delivery) error {
	ctx, span := w.Tracer.Start(ctx, "contract-sync.handle", trace.WithAttributes(AttrContractID.Int64(d.ContractID)))
	defer span.End()
	if len(d.Events) > 0 {
		span.SetAttributes(AttrEventType.String(d.Events[0].Type))
	}
	if d.Kind == KindWebhook {
		seen, err := w.Callbacks.Seen(ctx, d.CallbackID)
		if err != nil {
			return fmt.Errorf("check callback: %w", err)
		}
		if seen {
			w.Logger.DebugContext(ctx, "callback already processed", slog.Int64("oneflow.contract.id", d.ContractID))
			return nil
		}
	}
	st, err := w.States.Get(ctx, d.ContractID)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if st.Pending == nil && w.coalesced(ctx, d) {
		// Our own field writes come back as a burst of data_field:update
		// webhooks. The fetch flow acts on the contract's current state, so
		// when a later message will run it anyway, reading the contract now
		// is redundant: this one is done.
		return w.rememberCallback(ctx, d)
	}
	work := d.pendingEvents()
	attempts := w.cfg.InlineAttempts
	if d.Kind == KindRetry {
		if st.Pending == nil || st.Pending.Attempts != d.RetryAttempt {
			return nil // stale retry: the work ran or was rescheduled since
		}
		work = st.Pending.Events
		attempts = 1
	} else if st.Pending != nil {
		// Parked work runs first so a contract's events stay in order; a new
		// event is a fresh chance, tried once.
		folded := domain.Pending{Events: append([]domain.PendingEvent(nil), st.Pending.Events...)}
		folded.FoldEvents(work)
		work = folded.Events
		attempts = 1
	}
	if d.NumDelivered > w.cfg.CrashLoopDeliveries {
		// The worker died handling this message before; do not die again in
		// line with the partition's other contracts waiting.
		err := &domain.UpstreamError{System: serviceName, Kind: domain.KindTransient, Op: "handle",
			Reason: fmt.Sprintf("delivered %d times without finishing", d.NumDelivered)}
		if perr := w.park(ctx, d.ContractID, work, &flowError{flow: flowForWork(work), err: err}); perr != nil {
			return perr
		}
		return w.rememberCallback(ctx, d)
	}

	var rest []domain.PendingEvent
	var waitedForLoad time.Duration
	for attempt := 1; ; attempt++ {
		rest, err = w.runEvents(ctx, d.ContractID, st, work)
		if err == nil || errors.Is(err, ErrSimulatedCrash) || !domain.Transient(err) {
			break
		}
		wait := w.cfg.InlineBaseDelay << min(attempt-1, 6)
		rateLimited, retryAfter := domain.RetryHint(err)
		if rateLimited {
			// Throttled: waiting here is the backpressure the upstream asks
			// for; parking would only make the contract come back later.
			wait = max(wait, retryAfter)
			if waitedForLoad+wait > w.cfg.RateLimitedInlineWait {
				break
			}
			waitedForLoad += wait
		} else if attempt >= attempts {
			break
		}
		work = rest
		w.Logger.InfoContext(ctx, "transient failure, retrying in line",
			slog.Int64("oneflow.contract.id", d.ContractID), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.Bool("rate_limited", rateLimited), slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return ctx.Err() // shutting down: the message is delivered again
		case <-time.After(wait):
		}
	}
	switch {
	case errors.Is(err, ErrSimulatedCrash):
		return err
	case err == nil:
		if err := w.settle(ctx, d.ContractID, work); err != nil {
			return err
		}
	case ctx.Err() != nil:
		return ctx.Err()
	case domain.Transient(err):
		span.RecordError(err)
		if err := w.park(ctx, d.ContractID, rest, err); err != nil {
			return err
		}
	default:
		span.RecordError(err)
		span.SetStatus(codes.Error, domain.Reason(err))
		if err := w.fail(ctx, d.ContractID, flowOf(err), err); err != nil {
			return err
		}
	}
	return w.rememberCallback(ctx, d)
}

func (w *Worker) coalesced(ctx context.Context, d Delivery) bool {
	if w.Later == nil || d.StreamSeq == 0 || !d.onlyFetchTriggers() {
		return false
	}
	later, err := w.Later.HasLaterFetchTrigger(ctx, d.ContractID, d.StreamSeq, d.CallbackID)
	if err != nil {
		w.Logger.DebugContext(ctx, "look-ahead failed; running the fetch", slog.String("error", err.Error()))
		return false
	}
	return later
}

func (w *Worker) rememberCallback(ctx context.Context, d Delivery) error {
	if d.Kind != KindWebhook {
		return nil
	}
	if err := w.Callbacks.Remember(ctx, d.CallbackID); err != nil {
		return fmt.Errorf("remember callback: %w", err)
	}
	return nil
}

func flowForWork(work []domain.PendingEvent) string {
	for _, e := range work {
		if e.Replay {
			return domain.FlowReplay
		}
		if f, ok := domain.FlowForEvent(e.Type); ok {
			return f
		}
	}
	return ""
}

// runEvents runs the events in order and returns, on failure, the events from
// the failing one on.
func (w *Worker) runEvents(ctx context.Context, contractID int64, st domain.State, work []domain.PendingEvent) ([]domain.PendingEvent, error) {
	lastFlow := ""
	for i, ev := range work {
		var err error
		flow := domain.FlowReplay
		if !ev.Replay {
			var ok bool
			flow, ok = domain.FlowForEvent(ev.Type)
			if !ok {
				w.Logger.DebugContext(ctx, "event type ignored", slog.String("oneflow.event.type", ev.Type))
				continue
			}
			// A signature reset is remembered as seen when it bumps the
			// generation, before its Pending PDF is asked for: skipping it
			// here would lose that request on a retry, or on a redelivery
			// after a crash. It runs again instead: its lifecycle step
			// checks the event id itself and the publish is guarded per
			// generation.
			if st.SeenEvent(ev.EventID) && ev.Type != domain.EventContractSignatureReset {
				continue
			}
			// A contract's template never changes: once it is known not to
			// be a Flex HRM contract, its events cost no Oneflow call (an
			// account's other contracts must not eat the rate limit).
			if st.Status == domain.StatusIgnored {
				continue
			}
		}
		// Consecutive fetch triggers collapse: the first one read the
		// contract's current state already.
		if flow == domain.FlowFetch && lastFlow == domain.FlowFetch {
			continue
		}
		switch flow {
		case domain.FlowFetch:
			err = w.fetch(ctx, contractID, ev.Type, false)
		case domain.FlowPublish:
			err = w.publish(ctx, contractID, ev, false)
		case domain.FlowSign:
			err = w.sign(ctx, contractID, ev, false)
		case domain.FlowLifecycle:
			err = w.lifecycle(ctx, contractID, ev)
		case domain.FlowReplay:
			err = w.replay(ctx, contractID)
		}
		if err != nil {
			return work[i:], &flowError{flow: flow, err: err}
		}
		lastFlow = flow
	}
	return nil, nil
}

// settle records that the delivery's work is done.
func (w *Worker) settle(ctx context.Context, contractID int64, work []domain.PendingEvent) error {
	var clearedFailure bool
	_, err := w.States.Update(ctx, contractID, func(s *domain.State) error {
		s.ContractID = contractID
		s.Pending = nil
		clearedFailure = s.LastFailure != nil
		s.LastFailure = nil
		if s.Status == domain.StatusFailed || s.Status == domain.StatusInProgress {
			s.Status = domain.StatusInSync
		}
		for _, e := range work {
			s.RememberEvent(e.EventID)
		}
		s.UpdatedTime = w.cfg.Now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle state: %w", err)
	}
	if clearedFailure {
		if err := w.Failures.Delete(ctx, contractID); err != nil {
			return fmt.Errorf("clear failure: %w", err)
		}
	}
	return nil
}

// park acknowledges work that failed transiently: the state keeps it with
// the time of the next attempt, which the retry scheduler turns into a retry
// message. After the budget the contract fails.
func (w *Worker) park(ctx context.Context, contractID int64, rest []domain.PendingEvent, cause error) error {
	now := w.cfg.Now().UTC()
	exhausted := false
	var next time.Time
	var attempt int
	_, err := w.States.Update(ctx, contractID, func(s *domain.State) error {
		s.ContractID = contractID
		p := s.Pending
		if p == nil {
			p = &domain.Pending{FirstFailure: now}
		}
		if w.cfg.Retry.Exhausted(p.FirstFailure, now) {
			exhausted = true
			return nil
		}
		p.Events = append([]domain.PendingEvent(nil), rest...)
		p.Attempts++
		w.mu.Lock()
		_, retryAfter := domain.RetryHint(cause)
		p.NextAttempt = now.Add(max(w.cfg.Retry.NextDelay(p.Attempts, w.rnd), retryAfter))
		w.mu.Unlock()
		p.LastReason = domain.Reason(cause)
		p.Flow = flowOf(cause)
		s.Pending = p
		s.Status = domain.StatusInProgress
		s.UpdatedTime = now
		next, attempt = p.NextAttempt, p.Attempts
		return nil
	})
	if err != nil {
		return fmt.Errorf("park work: %w", err)
	}
	if exhausted {
		st, _ := w.States.Get(ctx, contractID)
		budget := w.cfg.Retry.Budget
		if st.Pending != nil {
			budget = now.Sub(st.Pending.FirstFailure).Round(time.Second)
		}
		return w.fail(ctx, contractID, flowOf(cause),
			fmt.Errorf("gave up after retrying for %s: %w", budget, cause))
	}
	w.record(ctx, contractID, flowEnum(flowOf(cause)), "", "retry_scheduled", eventsv1.Outcome_OUTCOME_WARNING,
		fmt.Sprintf("%s; retry %d scheduled for %s", domain.Reason(cause), attempt, next.Format(time.RFC3339)))
	w.Logger.WarnContext(ctx, "work parked for a scheduled retry",
		slog.Int64("oneflow.contract.id", contractID), slog.Int("attempt", attempt),
		slog.Time("next_attempt", next), slog.String("error", cause.Error()))
	return nil
}

// fail marks the contract failed: sync log, state and flexflow_failures.
func (w *Worker) fail(ctx context.Context, contractID int64, flow string, cause error) error {
	now := w.cfg.Now().UTC()
	reason := domain.Reason(cause)
	var gaveUp *domain.UpstreamError
	if strings.HasPrefix(cause.Error(), "gave up after") && errors.As(cause, &gaveUp) {
		reason = strings.SplitN(cause.Error(), ":", 2)[0] + ": " + reason
	}
	traceID := traceIDOf(ctx)
	_, err := w.States.Update(ctx, contractID, func(s *domain.State) error {
		s.ContractID = contractID
		s.Pending = nil
		s.Status = domain.StatusFailed
		s.LastFailure = &domain.Failure{Flow: flow, Reason: reason, Time: now, TraceID: traceID}
		s.UpdatedTime = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("record failure state: %w", err)
	}
	if err := w.Failures.Put(ctx, &contractsyncv1.ContractFailure{
		ContractId: contractID, Flow: flowEnum(flow), Reason: reason,
		FailedTime: timestamppb.New(now), TraceId: traceID,
	}); err != nil {
		return fmt.Errorf("record failure: %w", err)
	}
	w.record(ctx, contractID, flowEnum(flow), "", "flow_failed", eventsv1.Outcome_OUTCOME_FAILED, reason)
	w.Logger.ErrorContext(ctx, "flow failed", slog.Int64("oneflow.contract.id", contractID),
		slog.String("flexflow.flow", flow), slog.String("error", cause.Error()))
	return nil
}

// record appends a sync log entry; a failure to append is logged, not
// returned: the flow's side effects are done and must not be repeated for
// the sake of a log line.
func (w *Worker) record(ctx context.Context, contractID int64, flow eventsv1.Flow, eventType, step string, outcome eventsv1.Outcome, reason string) {
	trace.SpanFromContext(ctx).AddEvent("sync log", trace.WithAttributes(
		AttrStep.String(step), AttrStepOutcome.String(outcomeName(outcome))))
	err := w.SyncLog.Append(ctx, &eventsv1.SyncLogEntry{
		ContractId: contractID,
		Time:       timestamppb.New(w.cfg.Now()),
		Flow:       flow,
		Step:       step,
		Outcome:    outcome,
		Reason:     reason,
		TraceId:    traceIDOf(ctx),
		Service:    serviceName,
		EventType:  eventType,
	})
	if err != nil {
		w.Logger.ErrorContext(ctx, "sync log append failed", slog.Int64("oneflow.contract.id", contractID),
			slog.String("step", step), slog.String("error", err.Error()))
	}
}

func traceIDOf(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

func outcomeName(o eventsv1.Outcome) string {
	switch o {
	case eventsv1.Outcome_OUTCOME_DONE:
		return "done"
	case eventsv1.Outcome_OUTCOME_SKIPPED:
		return "skipped"
	case eventsv1.Outcome_OUTCOME_WARNING:
		return "warning"
	case eventsv1.Outcome_OUTCOME_FAILED:
		return "failed"
	}
	return "unspecified"
}

func flowEnum(flow string) eventsv1.Flow {
	switch flow {
	case domain.FlowFetch:
		return eventsv1.Flow_FLOW_FETCH
	case domain.FlowPublish:
		return eventsv1.Flow_FLOW_PUBLISH
	case domain.FlowSign:
		return eventsv1.Flow_FLOW_SIGN
	case domain.FlowLifecycle:
		return eventsv1.Flow_FLOW_LIFECYCLE
	case domain.FlowReplay:
		return eventsv1.Flow_FLOW_REPLAY
	}
	return eventsv1.Flow_FLOW_UNSPECIFIED
}

// flowRun carries what every step of one flow run needs.
type flowRun struct {
	w          *Worker
	contractID int64
	flow       eventsv1.Flow
	eventType  string
}

func (w *Worker) startFlow(ctx context.Context, contractID int64, flow, eventType string) (context.Context, trace.Span, *flowRun) {
	ctx, span := w.Tracer.Start(ctx, "flow "+flow, trace.WithAttributes(
		AttrContractID.Int64(contractID), AttrEventType.String(eventType), AttrFlow.String(flow)))
	return ctx, span, &flowRun{w: w, contractID: contractID, flow: flowEnum(flow), eventType: eventType}
}

// step runs one step in its own span and records its outcome in the sync
// log. fn returns the outcome and a reason; an error is returned as is and
// recorded by the worker when the flow gives up.
func (r *flowRun) step(ctx context.Context, name string, fn func(ctx context.Context) (eventsv1.Outcome, string, error)) error {
	ctx, span := r.w.Tracer.Start(ctx, "step "+name, trace.WithAttributes(
		AttrContractID.Int64(r.contractID), AttrStep.String(name)))
	defer span.End()
	outcome, reason, err := fn(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, domain.Reason(err))
		span.SetAttributes(AttrStepOutcome.String("error"))
		return err
	}
	span.SetAttributes(AttrStepOutcome.String(outcomeName(outcome)))
	r.w.record(ctx, r.contractID, r.flow, r.eventType, name, outcome, reason)
	return nil
}

// afterSideEffect runs the test hook.
func (w *Worker) afterSideEffect(ctx context.Context, contractID int64, step string) error {
	if w.cfg.Hooks.AfterSideEffect == nil {
		return nil
	}
	return w.cfg.Hooks.AfterSideEffect(ctx, contractID, step)
}

// flexTemplate decides whether a contract is flexflow's: made from a
// template of the Flex HRM template type and holding the employee-number
// field. Templates are cached: they do not change type.
func (w *Worker) flexTemplate(ctx context.Context, c Contract) (Template, bool, string, error) {
	if c.TemplateID == 0 {
		return Template{}, false, "contract was not made from a template; not a Flex HRM contract", nil
	}
	now := w.cfg.Now()
	w.mu.Lock()
	cached, ok := w.templates[c.TemplateID]
	w.mu.Unlock()
	tpl := cached.tpl
	if !ok || now.Sub(cached.fetched) > templateCacheTTL {
		var err error
		tpl, err = w.Oneflow.GetTemplate(ctx, c.TemplateID)
		if err != nil {
			var ue *domain.UpstreamError
			if errors.As(err, &ue) && ue.Kind == domain.KindNotFound {
				return Template{}, false, "contract's template no longer exists in Oneflow; not handled", nil
			}
			return Template{}, false, "", err
		}
		w.mu.Lock()
		w.templates[c.TemplateID] = cachedTemplate{tpl: tpl, fetched: now}
		w.mu.Unlock()
	}
	if !strings.EqualFold(strings.TrimSpace(tpl.TypeName), strings.TrimSpace(w.cfg.TemplateTypeName)) {
		return tpl, false, "template is not of the " + w.cfg.TemplateTypeName + " template type; contract ignored", nil
	}
	if _, has := c.DataFields[domain.FieldEmployeeNumber]; !has {
		return tpl, false, "contract has no employee-number data field; contract ignored", nil
	}
	return tpl, true, "", nil
}

// ignore records that a contract is not flexflow's, once.
func (w *Worker) ignore(ctx context.Context, r *flowRun, c Contract, reason string) error {
	st, err := w.States.Get(ctx, c.ID)
	if err != nil {
		return err
	}
	if st.Status == domain.StatusIgnored {
		return nil
	}
	if err := r.step(ctx, "check_template", func(context.Context) (eventsv1.Outcome, string, error) {
		return eventsv1.Outcome_OUTCOME_SKIPPED, reason, nil
	}); err != nil {
		return err
	}
	_, err = w.States.Update(ctx, c.ID, func(s *domain.State) error {
		s.ContractID = c.ID
		s.Status = domain.StatusIgnored
		s.OneflowState = c.State
		s.UpdatedTime = w.cfg.Now().UTC()
		return nil
	})
	return err
}

// resolveEmployee looks an employee up and turns "not found" and "ambiguous"
// into permanent errors with reasons an HR admin can act on.
func (w *Worker) resolveEmployee(ctx context.Context, number, companyID string) (domain.Employee, error) {
	emp, err := w.Directory.GetEmployee(ctx, number, companyID)
	var amb *AmbiguousEmployeeError
	switch {
	case errors.Is(err, ErrEmployeeNotFound):
		return emp, &domain.UpstreamError{System: domain.SystemFlexHRM, Kind: domain.KindNotFound, Op: "find employee",
			Reason: "no employee with number " + number + " in Flex HRM", Err: err}
	case errors.As(err, &amb):
		return emp, &domain.UpstreamError{System: domain.SystemFlexHRM, Kind: domain.KindInvalid, Op: "find employee",
			Reason: fmt.Sprintf("employee number %s exists in several Flex HRM companies (%s)", number, strings.Join(amb.Companies, ", ")), Err: err}
	}
	return emp, err
}

func isEmployeeLookupRefusal(err error) bool {
	return errors.Is(err, ErrEmployeeNotFound) || errors.As(err, new(*AmbiguousEmployeeError))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func errorsIsCrash(err error) bool { return errors.Is(err, ErrSimulatedCrash) }
