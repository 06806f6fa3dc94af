package domain_test

import (
	"testing"
	"time"

	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

func TestJobKeyRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    domain.JobKey
		wantErr bool
	}{
		{name: "pending_first_generation", in: "4711.pending.0", want: domain.JobKey{ContractID: 4711, Status: domain.StatusPending}},
		{name: "signed_after_two_resets", in: "4711.signed.2", want: domain.JobKey{ContractID: 4711, Status: domain.StatusSigned, Generation: 2}},
		{name: "unknown_status_is_refused", in: "4711.declined.0", wantErr: true},
		{name: "negative_generation_is_refused", in: "4711.pending.-1", wantErr: true},
		{name: "zero_contract_is_refused", in: "0.pending.0", wantErr: true},
		{name: "missing_part_is_refused", in: "4711.pending", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseJobKey(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseJobKey(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseJobKey(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseEventMsgID(t *testing.T) {
	got, err := domain.ParseEventMsgID("4711-signed-1")
	want := domain.JobKey{ContractID: 4711, Status: domain.StatusSigned, Generation: 1}
	if err != nil || got != want {
		t.Fatalf("ParseEventMsgID = %v, %v; want %v", got, err, want)
	}
	if _, err := domain.ParseEventMsgID("e2b9c0a4"); err == nil {
		t.Fatal("a callback id was taken for an event id")
	}
}

func TestFindUnclaimed(t *testing.T) {
	docs := []domain.FlexDocument{
		{ID: "d0", Title: "Avtal - Pending.pdf"},
		{ID: "d1", Title: "Avtal - Pending.pdf"},
		{ID: "d2", Title: "Annat - Pending.pdf"},
	}
	self := domain.JobKey{ContractID: 7, Status: domain.StatusPending, Generation: 1}
	gen0 := domain.JobKey{ContractID: 7, Status: domain.StatusPending}
	otherContract := domain.JobKey{ContractID: 8, Status: domain.StatusPending}
	tests := []struct {
		name    string
		claimed map[string]domain.JobKey
		want    string
		found   bool
	}{
		{name: "unclaimed_document_with_the_title_is_found", claimed: nil, want: "d0", found: true},
		{name: "a_document_claimed_by_an_earlier_generation_is_passed_over", claimed: map[string]domain.JobKey{"d0": gen0}, want: "d1", found: true},
		{name: "all_documents_with_the_title_claimed_means_not_found", claimed: map[string]domain.JobKey{"d0": gen0, "d1": otherContract}, found: false},
		{name: "a_document_claimed_by_the_same_job_is_its_own", claimed: map[string]domain.JobKey{"d0": self}, want: "d0", found: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := domain.FindUnclaimed(docs, "Avtal - Pending.pdf", tt.claimed, self)
			if ok != tt.found || got.ID != tt.want {
				t.Fatalf("FindUnclaimed = %v, %v; want %q, %v", got, ok, tt.want, tt.found)
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	p := domain.RetryPolicy{Initial: 5 * time.Second, Max: 10 * time.Minute, Budget: 2 * time.Hour}
	tests := []struct {
		name    string
		attempt int
		want    time.Duration
	}{
		{name: "first_retry_waits_the_initial_delay", attempt: 1, want: 5 * time.Second},
		{name: "delays_double", attempt: 3, want: 20 * time.Second},
		{name: "delays_stop_growing_at_the_maximum", attempt: 9, want: 10 * time.Minute},
		{name: "huge_attempt_counts_do_not_overflow", attempt: 1 << 20, want: 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Delay(tt.attempt); got != tt.want {
				t.Fatalf("Delay(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
	t.Run("default_policy_retries_for_at_least_two_hours", func(t *testing.T) {
		d := domain.DefaultRetryPolicy()
		start := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		now, attempts := start, 1
		for !d.Exhausted(start, now) {
			now = now.Add(d.Delay(attempts))
			attempts++
		}
		if span := now.Sub(start); span < 2*time.Hour {
			t.Fatalf("retried for %v, want at least 2h", span)
		}
		if attempts > 40 {
			t.Fatalf("%d attempts is a retry storm", attempts)
		}
	})
}
