package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// resendSchedule is Oneflow's wait before each resend of a webhook that was
// not answered 200: 10 attempts in all.
var resendSchedule = [...]time.Duration{
	1 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second,
	300 * time.Second, 600 * time.Second, 1800 * time.Second, 3600 * time.Second,
}

// MaxDeliveryAttempts is how often Oneflow tries one notification.
const MaxDeliveryAttempts = len(resendSchedule) + 1

// ResendSchedule returns Oneflow's waits between attempts (before scaling).
func ResendSchedule() []time.Duration { return append([]time.Duration(nil), resendSchedule[:]...) }

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliverySkipped   = "skipped"
	DeliveryCancelled = "cancelled"
)

// Delivery is the record of one notification sent (or being sent) to the
// webhook URL. With duplicates, each copy is its own Delivery sharing the
// callback id.
type Delivery struct {
	CallbackID string          `json:"callback_id"`
	ContractID int64           `json:"contract_id"`
	EventID    int64           `json:"event_id"`
	EventType  string          `json:"event_type"`
	Copy       int             `json:"copy"`
	State      string          `json:"state"`
	Attempts   []Attempt       `json:"attempts"`
	CreatedAt  time.Time       `json:"created_at"`
	Body       json.RawMessage `json:"body"`
}

// Attempt is one POST of a notification. Status is 0 when no answer came.
type Attempt struct {
	At     time.Time `json:"at"`
	Status int       `json:"status"`
	Error  string    `json:"error,omitempty"`
}

type deliveryConfig struct {
	url        string
	signKey    string
	timeScale  float64
	timeout    time.Duration
	duplicates int
	jitter     time.Duration
	logger     *slog.Logger
}

// deliverer sends notifications, each in its own goroutine (so, like Oneflow,
// order is not guaranteed), resending on the schedule until exactly 200.
type deliverer struct {
	client    *http.Client
	logger    *slog.Logger
	timeScale float64
	signKey   string

	root   context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed bool

	mu         sync.Mutex
	url        string
	duplicates int
	// duplicatesMax > duplicates sends each notification a random number of
	// times in [duplicates, duplicatesMax].
	duplicatesMax int
	// jitter delays each copy's first attempt by a random 0..jitter, so
	// notifications arrive out of order, as Oneflow allows.
	jitter     time.Duration
	paused     bool
	resumed    chan struct{}
	generation context.Context
	cancelGen  context.CancelFunc
	records    []*Delivery
	pending    int
	changed    chan struct{}
}

func newDeliverer(cfg deliveryConfig) *deliverer {
	timeout := cfg.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	root, stop := context.WithCancel(context.Background())
	gen, cancelGen := context.WithCancel(root)
	return &deliverer{
		// No otelhttp: Oneflow sends no trace context, so each webhook starts
		// its own trace at the gateway.
		client:     &http.Client{Timeout: timeout, Transport: ownTransport()},
		logger:     cfg.logger,
		timeScale:  cfg.timeScale,
		signKey:    cfg.signKey,
		root:       root,
		stop:       stop,
		url:        cfg.url,
		duplicates: max(cfg.duplicates, 1),
		jitter:     max(cfg.jitter, 0),
		generation: gen,
		cancelGen:  cancelGen,
		changed:    make(chan struct{}),
	}
}

// notifyLocked wakes WaitForDeliveries; d.mu must be held.
func (d *deliverer) notifyLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// enqueue signs a notification for one event with a fresh callback id and
// starts delivering it (duplicates times).
func (d *deliverer) enqueue(contractID int64, ev oneflow.Event) {
	callbackID := randomHex(16)
	n := oneflow.Notification{
		Contract:   oneflow.NotificationContract{ID: contractID},
		CallbackID: callbackID,
		Signature:  oneflow.Sign(callbackID, d.signKey),
		Events:     []oneflow.Event{ev},
	}
	body, _ := json.Marshal(n)

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	copies := d.duplicates
	if d.duplicatesMax > copies {
		copies += rand.IntN(d.duplicatesMax - copies + 1)
	}
	for copyNo := 1; copyNo <= copies; copyNo++ {
		rec := &Delivery{
			CallbackID: callbackID, ContractID: contractID, EventID: ev.ID, EventType: ev.Type,
			Copy: copyNo, State: DeliveryPending, Attempts: []Attempt{}, CreatedAt: time.Now(), Body: body,
		}
		d.records = append(d.records, rec)
		if d.url == "" {
			rec.State = DeliverySkipped
			continue
		}
		d.pending++
		ctx := d.generation
		var delay time.Duration
		if d.jitter > 0 {
			delay = rand.N(d.jitter)
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.deliver(ctx, rec, body, delay)
		}()
	}
	d.notifyLocked()
}

func (d *deliverer) deliver(ctx context.Context, rec *Delivery, body []byte, delay time.Duration) {
	final := DeliveryFailed
	defer func() {
		d.mu.Lock()
		rec.State = final
		d.pending--
		d.notifyLocked()
		d.mu.Unlock()
	}()
	for attempt := 0; attempt < MaxDeliveryAttempts; attempt++ {
		wait := delay
		if attempt > 0 {
			wait = time.Duration(float64(resendSchedule[attempt-1]) * d.timeScale)
		}
		if wait > 0 {
			if !sleepCtx(ctx, wait) {
				final = DeliveryCancelled
				return
			}
		}
		url, ok := d.waitUnpaused(ctx)
		if !ok {
			final = DeliveryCancelled
			return
		}
		status, err := d.post(ctx, url, body)
		a := Attempt{At: time.Now(), Status: status}
		if err != nil {
			a.Error = err.Error()
		}
		d.mu.Lock()
		rec.Attempts = append(rec.Attempts, a)
		d.notifyLocked()
		d.mu.Unlock()
		if status == http.StatusOK {
			final = DeliveryDelivered
			return
		}
		if ctx.Err() != nil {
			final = DeliveryCancelled
			return
		}
	}
	d.logger.Warn("oneflow sandbox gave up a webhook after every attempt", "event_type", rec.EventType,
		"contract_id", rec.ContractID, "attempts", MaxDeliveryAttempts)
}

// waitUnpaused blocks while delivery is paused and returns the URL to use.
func (d *deliverer) waitUnpaused(ctx context.Context) (string, bool) {
	for {
		d.mu.Lock()
		if !d.paused {
			url := d.url
			d.mu.Unlock()
			return url, true
		}
		resumed := d.resumed
		d.mu.Unlock()
		select {
		case <-resumed:
		case <-ctx.Done():
			return "", false
		}
	}
}

func (d *deliverer) post(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Oneflow-Sandbox-Webhooks/1")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// ownTransport is a transport whose idle connections Close can drop.
func ownTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *deliverer) pause() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.paused {
		d.paused = true
		d.resumed = make(chan struct{})
	}
}

func (d *deliverer) resume() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.paused {
		d.paused = false
		close(d.resumed)
	}
}

// deliveryKnobs change how new notifications are delivered; nil leaves a
// setting as it is.
type deliveryKnobs struct {
	URL           *string `json:"url"`
	Duplicates    *int    `json:"duplicates"`
	DuplicatesMax *int    `json:"duplicates_max"`
	JitterMS      *int64  `json:"jitter_ms"`
}

func (d *deliverer) configure(k deliveryKnobs) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k.URL != nil {
		d.url = *k.URL
	}
	if k.Duplicates != nil {
		d.duplicates = max(*k.Duplicates, 1)
		d.duplicatesMax = 0
	}
	if k.DuplicatesMax != nil {
		d.duplicatesMax = *k.DuplicatesMax
	}
	if k.JitterMS != nil {
		d.jitter = time.Duration(max(*k.JitterMS, 0)) * time.Millisecond
	}
}

func (d *deliverer) snapshot() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Delivery, 0, len(d.records))
	for _, r := range d.records {
		c := *r
		c.Attempts = append([]Attempt(nil), r.Attempts...)
		out = append(out, c)
	}
	return out
}

// wait blocks until no delivery is pending; it fails when some were given up.
func (d *deliverer) wait(ctx context.Context) error {
	for {
		d.mu.Lock()
		pending, changed := d.pending, d.changed
		failed := 0
		for _, r := range d.records {
			if r.State == DeliveryFailed {
				failed++
			}
		}
		d.mu.Unlock()
		if pending == 0 {
			if failed > 0 {
				return fmt.Errorf("sandbox: %d webhook deliveries failed after %d attempts", failed, MaxDeliveryAttempts)
			}
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("sandbox: %d webhook deliveries still pending: %w", pending, ctx.Err())
		}
	}
}

// reset cancels deliveries under way and forgets every record.
func (d *deliverer) reset() {
	d.mu.Lock()
	d.cancelGen()
	d.generation, d.cancelGen = context.WithCancel(d.root)
	d.mu.Unlock()
	// Let cancelled deliveries finish before forgetting them.
	d.waitIdle()
	d.mu.Lock()
	d.records = nil
	d.notifyLocked()
	d.mu.Unlock()
}

func (d *deliverer) waitIdle() {
	for {
		d.mu.Lock()
		pending, changed := d.pending, d.changed
		d.mu.Unlock()
		if pending == 0 {
			return
		}
		<-changed
	}
}

func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.stop()
	d.wg.Wait()
	d.client.CloseIdleConnections()
}

// Deliveries returns every webhook delivery recorded since start or Reset.
func (s *Server) Deliveries() []Delivery { return s.hooks.snapshot() }

// WaitForDeliveries blocks until every pending webhook delivery has ended; it
// returns an error when some were given up after every attempt, or when ctx
// ends first.
func (s *Server) WaitForDeliveries(ctx context.Context) error { return s.hooks.wait(ctx) }

// PauseWebhooks holds every delivery attempt (new and resends) until
// ResumeWebhooks, as during an outage on Oneflow's side.
func (s *Server) PauseWebhooks() { s.hooks.pause() }

// ResumeWebhooks releases the held deliveries.
func (s *Server) ResumeWebhooks() { s.hooks.resume() }

// SetWebhookURL changes where webhooks go (resends included); "" stops
// sending new ones (they are recorded as skipped).
func (s *Server) SetWebhookURL(url string) { s.hooks.configure(deliveryKnobs{URL: &url}) }

// SetDuplicateDeliveries sends every new notification n times (n >= 1), each
// copy with the same callback id and its own resend schedule.
func (s *Server) SetDuplicateDeliveries(n int) { s.hooks.configure(deliveryKnobs{Duplicates: &n}) }

// SetDuplicateDeliveriesRange sends every new notification a random number of
// times between low and high (inclusive), as in a resend storm.
func (s *Server) SetDuplicateDeliveriesRange(low, high int) {
	s.hooks.configure(deliveryKnobs{Duplicates: &low, DuplicatesMax: &high})
}

// SetDeliveryJitter delays each delivery copy's first attempt by a random
// 0..d, so notifications arrive out of order (0 turns it off).
func (s *Server) SetDeliveryJitter(d time.Duration) {
	ms := d.Milliseconds()
	s.hooks.configure(deliveryKnobs{JitterMS: &ms})
}
