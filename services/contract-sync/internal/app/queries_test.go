package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

type memFailures []*contractsyncv1.ContractFailure

func (m memFailures) Put(context.Context, *contractsyncv1.ContractFailure) error { return nil }
func (m memFailures) Delete(context.Context, int64) error                        { return nil }
func (m memFailures) List(context.Context) ([]*contractsyncv1.ContractFailure, error) {
	return append([]*contractsyncv1.ContractFailure(nil), m...), nil
}

type noStates struct{}

func (noStates) Get(context.Context, int64) (domain.State, error) { return domain.State{}, nil }
func (noStates) Update(context.Context, int64, func(*domain.State) error) (domain.State, error) {
	return domain.State{}, nil
}

type noLog struct{}

func (noLog) Append(context.Context, *eventsv1.SyncLogEntry) error { return nil }
func (noLog) Read(context.Context, int64) ([]*eventsv1.SyncLogEntry, error) {
	return nil, nil
}

type noQueue struct{}

func (noQueue) Enqueue(context.Context, *contractsyncv1.ReceiveOneflowWebhookRequest) (bool, error) {
	return false, nil
}
func (noQueue) EnqueueReplay(context.Context, int64) error             { return nil }
func (noQueue) EnqueueRetry(context.Context, int64, int, string) error { return nil }

func TestFailuresArePagedNewestFirst(t *testing.T) {
	base := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
	var store memFailures
	for i := range 7 {
		store = append(store, &contractsyncv1.ContractFailure{ContractId: int64(100 + i), FailedTime: timestamppb.New(base.Add(time.Duration(i) * time.Minute))})
	}
	q, err := NewQueries(noStates{}, noLog{}, store, noQueue{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	token := ""
	for range 10 {
		page, err := q.Failures(context.Background(), 3, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.GetFailures() {
			seen = append(seen, f.GetContractId())
		}
		token = page.GetNextPageToken()
		if token == "" {
			break
		}
	}
	want := []int64{106, 105, 104, 103, 102, 101, 100}
	if len(seen) != len(want) {
		t.Fatalf("seen %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("seen %v, want %v", seen, want)
		}
	}
	for _, bad := range []string{"x", "-1"} {
		if _, err := q.Failures(context.Background(), 3, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if _, err := q.Failures(context.Background(), -1, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative page size: %v", err)
	}
}

func TestValidateWebhook(t *testing.T) {
	ev := []*contractsyncv1.OneflowEvent{{Id: 1, Type: "contract:sign"}}
	ref := &contractsyncv1.OneflowContractRef{Id: 4711}
	tests := []struct {
		name string
		req  *contractsyncv1.ReceiveOneflowWebhookRequest
		ok   bool
	}{
		{"a_complete_notification_passes", &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: ref, CallbackId: "cb", Events: ev}, true},
		{"an_empty_callback_id_is_refused", &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: ref, Events: ev}, false},
		{"a_missing_contract_is_refused", &contractsyncv1.ReceiveOneflowWebhookRequest{CallbackId: "cb", Events: ev}, false},
		{"a_negative_contract_id_is_refused", &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: &contractsyncv1.OneflowContractRef{Id: -4}, CallbackId: "cb", Events: ev}, false},
		{"no_events_is_refused", &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: ref, CallbackId: "cb"}, false},
		{"a_thousand_events_pass", &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: ref, CallbackId: "cb", Events: make([]*contractsyncv1.OneflowEvent, 1000)}, true},
		{"more_than_a_thousand_events_are_refused", &contractsyncv1.ReceiveOneflowWebhookRequest{Contract: ref, CallbackId: "cb", Events: make([]*contractsyncv1.OneflowEvent, 1001)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateWebhook(tt.req)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidWebhook) {
				t.Errorf("err = %v is not ErrInvalidWebhook", err)
			}
		})
	}
}
