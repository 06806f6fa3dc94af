package domain

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Status summarises where flexflow stands with a contract; it maps onto
// contractsyncv1.SyncStatus.
type Status string

// Statuses a contract can be in.
const (
	StatusUnknown    Status = ""
	StatusInProgress Status = "in_progress"
	StatusInSync     Status = "in_sync"
	StatusWaiting    Status = "waiting"
	StatusFailed     Status = "failed"
	StatusIgnored    Status = "ignored"
)

// ParticipantRef is a participant flexflow added to a contract.
type ParticipantRef struct {
	PartyID       int64 `json:"party_id"`
	ParticipantID int64 `json:"participant_id"`
	// EmployeeNumber is the employee the participant stands for (employee
	// participants only).
	EmployeeNumber string `json:"employee_number,omitempty"`
}

// EmployeeRef identifies the Flex HRM employee a contract was filled from.
type EmployeeRef struct {
	EmployeeNumber string `json:"employee_number"`
	FlexEmployeeID string `json:"flex_employee_id,omitempty"`
	FlexCompanyID  string `json:"flex_company_id,omitempty"`
}

// PendingEvent is an event whose work is still to be done.
type PendingEvent struct {
	Type       string `json:"type"`
	CallbackID string `json:"callback_id,omitempty"`
	EventID    int64  `json:"event_id,omitempty"`
	// Replay marks an operator replay folded into the pending work.
	Replay bool `json:"replay,omitempty"`
}

// Pending is work parked after transient failures: the contract's events
// are acknowledged so its partition moves on, and a retry scheduler sends a
// retry message at NextAttempt.
type Pending struct {
	Events       []PendingEvent `json:"events"`
	Attempts     int            `json:"attempts"`
	FirstFailure time.Time      `json:"first_failure"`
	NextAttempt  time.Time      `json:"next_attempt"`
	LastReason   string         `json:"last_reason,omitempty"`
	Flow         string         `json:"flow,omitempty"`
}

// Failure is the last permanent failure of a contract.
type Failure struct {
	Flow    string    `json:"flow"`
	Reason  string    `json:"reason"`
	Time    time.Time `json:"time"`
	TraceID string    `json:"trace_id,omitempty"`
}

// State is contract-sync's memory of one contract, stored in the KV bucket
// flexflow_contracts and updated by compare-and-set. Every side effect is
// guarded by it, so a redelivered message or a restarted worker does each at
// most once.
type State struct {
	ContractID   int64  `json:"contract_id"`
	Status       Status `json:"status,omitempty"`
	OneflowState string `json:"oneflow_state,omitempty"`
	Generation   int32  `json:"generation"`
	// FetchedNumber is the employee number the last fetch ran for to a
	// definite outcome (filled, not found, ambiguous). A data_field:update
	// with the same number is a no-op: that is how our own writes' echoes
	// end.
	FetchedNumber string       `json:"fetched_number,omitempty"`
	Employee      *EmployeeRef `json:"employee,omitempty"`
	// Participant is the employee participant flexflow added.
	Participant *ParticipantRef `json:"participant,omitempty"`
	// ParticipantIntent is the employee number an add was started for; set
	// before the call so a crash before recording the result can be told
	// from a participant an admin added.
	ParticipantIntent string `json:"participant_intent,omitempty"`
	// Manager is the manager participant flexflow added.
	Manager       *ParticipantRef `json:"manager,omitempty"`
	ManagerIntent bool            `json:"manager_intent,omitempty"`
	// NameSet is the contract name flexflow set.
	NameSet string `json:"name_set,omitempty"`
	// Done holds completed steps, e.g. "publish/0", "sign/1/employee".
	Done        map[string]bool `json:"done,omitempty"`
	Pending     *Pending        `json:"pending,omitempty"`
	LastFailure *Failure        `json:"last_failure,omitempty"`
	// SeenEvents are the last Oneflow event ids handled, so an event that
	// comes again in another notification (signature resets count) is not
	// applied twice.
	SeenEvents  []int64   `json:"seen_events,omitempty"`
	UpdatedTime time.Time `json:"updated_time"`
}

// maxSeenEvents bounds State.SeenEvents.
const maxSeenEvents = 64

// StepKey names a step of a flow for a generation, e.g. "sign/0/period".
func StepKey(flow string, generation int32, step string) string {
	k := flow + "/" + strconv.Itoa(int(generation))
	if step != "" {
		k += "/" + step
	}
	return k
}

// IsDone reports whether a step completed.
func (s *State) IsDone(key string) bool { return s.Done[key] }

// MarkDone records a completed step.
func (s *State) MarkDone(key string) {
	if s.Done == nil {
		s.Done = map[string]bool{}
	}
	s.Done[key] = true
}

// SeenEvent reports whether an event id was handled before; id 0 is never
// seen (replays and retries carry no event id).
func (s *State) SeenEvent(id int64) bool {
	if id == 0 {
		return false
	}
	for _, e := range s.SeenEvents {
		if e == id {
			return true
		}
	}
	return false
}

// RememberEvent records a handled event id, keeping the newest ones.
func (s *State) RememberEvent(id int64) {
	if id == 0 || s.SeenEvent(id) {
		return
	}
	s.SeenEvents = append(s.SeenEvents, id)
	if len(s.SeenEvents) > maxSeenEvents {
		s.SeenEvents = s.SeenEvents[len(s.SeenEvents)-maxSeenEvents:]
	}
}

// CompletedFlows lists the flows completed for the current generation.
func (s *State) CompletedFlows() []string {
	var out []string
	for k, v := range s.Done {
		if !v {
			continue
		}
		parts := strings.Split(k, "/")
		if len(parts) == 2 && parts[1] == strconv.Itoa(int(s.Generation)) {
			out = append(out, parts[0])
		}
	}
	if s.FetchedNumber != "" && s.Employee != nil && s.Employee.EmployeeNumber == s.FetchedNumber {
		out = append(out, FlowFetch)
	}
	sort.Strings(out)
	return out
}

// FoldEvents adds events to the parked work, keeping their order and
// dropping exact repeats.
func (p *Pending) FoldEvents(events []PendingEvent) {
	for _, e := range events {
		dup := false
		for _, have := range p.Events {
			if have == e {
				dup = true
				break
			}
		}
		if !dup {
			p.Events = append(p.Events, e)
		}
	}
}

// RetryPolicy is how long and how often parked work is retried.
type RetryPolicy struct {
	// Budget is the total time transient failures are retried before the
	// contract is marked failed (at least two hours in production).
	Budget time.Duration
	// BaseDelay is the wait before the first scheduled retry; it doubles.
	BaseDelay time.Duration
	// MaxDelay caps the wait between scheduled retries.
	MaxDelay time.Duration
}

// NextDelay returns the wait before scheduled attempt n (1-based): base·2^(n-1)
// capped at MaxDelay, with up to 20% jitter so parked contracts do not all
// come back at once.
func (r RetryPolicy) NextDelay(attempt int, rnd *rand.Rand) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(r.BaseDelay) * math.Pow(2, float64(attempt-1))
	if d > float64(r.MaxDelay) || math.IsInf(d, 0) {
		d = float64(r.MaxDelay)
	}
	if rnd != nil && d > 0 {
		d += d * 0.2 * rnd.Float64()
	}
	return time.Duration(d)
}

// Exhausted reports whether the budget is used up at now for work that
// first failed at firstFailure.
func (r RetryPolicy) Exhausted(firstFailure, now time.Time) bool {
	return !firstFailure.IsZero() && now.Sub(firstFailure) >= r.Budget
}
