package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// webhookFanout sits between the Oneflow sandbox and the gateway. It passes
// each delivery on and answers with the gateway's status (so the sandbox
// resends on its schedule when the gateway is down), records every
// notification, and sends each one again a few more times later, at random
// moments: after the contract's later events, out of order, as Oneflow may
// resend a notification it thinks was lost.
type webhookFanout struct {
	// url is where the sandbox sends its webhooks; target the gateway's
	// webhook route.
	url    string
	target string
	client *http.Client
	// extraMin..extraMax further copies of each notification are sent at
	// random moments within lateMax (a few within 4·lateMax).
	extraMin, extraMax int
	lateMax            time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	notes map[string]*notification
	order []string
}

// notification is one callback id the sandbox sent, with how often it
// reached the gateway (answered 200).
type notification struct {
	CallbackID string
	ContractID int64
	EventType  string
	body       []byte
	Delivered  int
	Refused    int
}

func startWebhookFanout(t *testing.T, target string, extraMin, extraMax int, lateMax time.Duration) *webhookFanout {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &webhookFanout{
		target: target, extraMin: extraMin, extraMax: extraMax, lateMax: lateMax,
		client: &http.Client{Timeout: 30 * time.Second},
		ctx:    ctx, cancel: cancel, notes: map[string]*notification{},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		cancel()
		f.wg.Wait()
		_ = srv.Close()
	})
	f.url = "http://" + l.Addr().String()
	return f
}

func (f *webhookFanout) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var head struct {
		Contract struct {
			ID int64 `json:"id"`
		} `json:"contract"`
		CallbackID string `json:"callback_id"`
		Events     []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	_ = json.Unmarshal(body, &head)
	f.mu.Lock()
	n, seen := f.notes[head.CallbackID]
	if !seen {
		n = &notification{CallbackID: head.CallbackID, ContractID: head.Contract.ID, body: body}
		if len(head.Events) > 0 {
			n.EventType = head.Events[0].Type
		}
		f.notes[head.CallbackID] = n
		f.order = append(f.order, head.CallbackID)
	}
	f.mu.Unlock()
	if !seen {
		for i, extra := 0, f.extraMin+rand.IntN(f.extraMax-f.extraMin+1); i < extra; i++ {
			wait := jitter(0, f.lateMax)
			if rand.IntN(6) == 0 {
				wait = jitter(f.lateMax, 4*f.lateMax)
			}
			f.later(n, wait)
		}
	}
	status, answer := f.post(r.Context(), body)
	f.count(n, status)
	if status == 0 {
		status = http.StatusBadGateway
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// later sends one more copy after wait, retrying (bounded) while the
// gateway is down.
func (f *webhookFanout) later(n *notification, wait time.Duration) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(wait):
		}
		for attempt := 0; attempt < 40; attempt++ {
			status, _ := f.post(f.ctx, n.body)
			f.count(n, status)
			if status == http.StatusOK || f.ctx.Err() != nil {
				return
			}
			select {
			case <-f.ctx.Done():
				return
			case <-time.After(jitter(200*time.Millisecond, 600*time.Millisecond)):
			}
		}
	}()
}

func (f *webhookFanout) post(ctx context.Context, body []byte) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.target, bytes.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer
}

func (f *webhookFanout) count(n *notification, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == http.StatusOK {
		n.Delivered++
	} else {
		n.Refused++
	}
}

// resendAll sends every notification recorded so far once more, in random
// order, with a few senders at once: the late, out-of-order resends.
func (f *webhookFanout) resendAll(ctx context.Context) {
	f.mu.Lock()
	all := make([]*notification, 0, len(f.order))
	for _, id := range f.order {
		all = append(all, f.notes[id])
	}
	f.mu.Unlock()
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	work := make(chan *notification)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				for attempt := 0; attempt < 40 && ctx.Err() == nil; attempt++ {
					status, _ := f.post(ctx, n.body)
					f.count(n, status)
					if status == http.StatusOK {
						break
					}
					time.Sleep(jitter(200*time.Millisecond, 600*time.Millisecond))
				}
			}
		}()
	}
	for _, n := range all {
		work <- n
	}
	close(work)
	wg.Wait()
}

// wait blocks until every scheduled copy was sent.
func (f *webhookFanout) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliveryStats summarises how often each notification reached the gateway.
type deliveryStats struct {
	Notifications int
	Deliveries    int
	Refused       int
	Min, Max      int
	ByEventType   map[string]int
}

func (f *webhookFanout) stats() deliveryStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := deliveryStats{Notifications: len(f.notes), ByEventType: map[string]int{}, Min: -1}
	for _, n := range f.notes {
		st.Deliveries += n.Delivered
		st.Refused += n.Refused
		st.ByEventType[n.EventType]++
		if st.Min < 0 || n.Delivered < st.Min {
			st.Min = n.Delivered
		}
		st.Max = max(st.Max, n.Delivered)
	}
	return st
}
