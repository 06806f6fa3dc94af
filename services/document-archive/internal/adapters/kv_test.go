package adapters_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/flexflow/flexflow/libs/natsx"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/document-archive/internal/adapters"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// jetStream starts an embedded NATS server and creates document-archive's
// streams and buckets on it.
func jetStream(t *testing.T) (context.Context, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := adapters.EnsureTopology(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	if err := adapters.EnsureTopology(ctx, js, 1); err != nil {
		t.Fatalf("a second EnsureTopology failed: %v", err)
	}
	return ctx, js
}

func bucket(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) jetstream.KeyValue {
	t.Helper()
	kv, err := js.KeyValue(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func TestKVRecords(t *testing.T) {
	ctx, js := jetStream(t)
	recs, err := adapters.NewKVRecords(bucket(t, ctx, js, adapters.DocumentsBucket))
	if err != nil {
		t.Fatal(err)
	}
	pending := domain.JobKey{ContractID: 7, Status: domain.StatusPending}
	signed := domain.JobKey{ContractID: 7, Status: domain.StatusSigned}
	other := domain.JobKey{ContractID: 70, Status: domain.StatusPending}
	target := domain.Target{EmployeeNumber: "A/1 ö", FlexEmployeeID: "e1", FlexCompanyID: "c1"}
	at := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
	for i, k := range []domain.JobKey{pending, signed, other} {
		rec := domain.Record{Key: k, FlexDocumentID: "doc-" + strconv.Itoa(i), Title: "T", SHA256: "ab", SizeBytes: 3, ArchivedAt: at, Target: target, CategoryID: "cat"}
		if k == other {
			rec.Target.EmployeeNumber = "2"
		}
		if err := recs.Save(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a_saved_record_reads_back_whole", func(t *testing.T) {
		got, ok, err := recs.Get(ctx, signed)
		if err != nil || !ok {
			t.Fatalf("Get = %v, %v", ok, err)
		}
		if got.FlexDocumentID != "doc-1" || got.Target != target || !got.ArchivedAt.Equal(at) || got.Key != signed || got.CategoryID != "cat" {
			t.Fatalf("record %+v", got)
		}
	})
	t.Run("an_unknown_job_has_no_record", func(t *testing.T) {
		if _, ok, err := recs.Get(ctx, domain.JobKey{ContractID: 8, Status: domain.StatusSigned}); ok || err != nil {
			t.Fatalf("Get = %v, %v", ok, err)
		}
	})
	t.Run("the_claim_names_the_job", func(t *testing.T) {
		k, ok, err := recs.ClaimedBy(ctx, "doc-0")
		if err != nil || !ok || k != pending {
			t.Fatalf("ClaimedBy = %v, %v, %v", k, ok, err)
		}
		if _, ok, _ := recs.ClaimedBy(ctx, "strange id/with.dots"); ok {
			t.Fatal("an unclaimed id is claimed")
		}
	})
	t.Run("listing_by_contract_does_not_mix_in_contract_70", func(t *testing.T) {
		got, err := recs.ByContract(ctx, 7)
		if err != nil || len(got) != 2 {
			t.Fatalf("ByContract = %d records, %v", len(got), err)
		}
	})
	t.Run("listing_by_an_employee_number_with_odd_characters_works", func(t *testing.T) {
		got, err := recs.ByEmployee(ctx, "A/1 ö")
		if err != nil || len(got) != 2 {
			t.Fatalf("ByEmployee = %d records, %v", len(got), err)
		}
	})
	t.Run("the_target_is_remembered", func(t *testing.T) {
		if err := recs.SaveTarget(ctx, pending, target); err != nil {
			t.Fatal(err)
		}
		got, ok, err := recs.Target(ctx, pending)
		if err != nil || !ok || got != target {
			t.Fatalf("Target = %+v, %v, %v", got, ok, err)
		}
	})
}

func TestKVLease(t *testing.T) {
	ctx, js := jetStream(t)
	kv := bucket(t, ctx, js, adapters.DocumentsBucket)
	key := domain.JobKey{ContractID: 7, Status: domain.StatusPending}
	logger := slog.New(slog.DiscardHandler)
	first, err := adapters.NewKVLease(kv, 600*time.Millisecond, logger)
	if err != nil {
		t.Fatal(err)
	}
	second, err := adapters.NewKVLease(kv, 600*time.Millisecond, logger)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a_held_lease_is_busy_for_another_process_even_past_its_ttl_while_renewed", func(t *testing.T) {
		release, err := first.Acquire(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(900 * time.Millisecond) // renewed every 200 ms meanwhile
		if _, err := second.Acquire(ctx, key); !errors.Is(err, app.ErrBusy) {
			t.Fatalf("second Acquire = %v, want ErrBusy", err)
		}
		release()
		rel, err := second.Acquire(ctx, key)
		if err != nil {
			t.Fatalf("Acquire after release = %v", err)
		}
		rel()
	})
	t.Run("a_lease_left_by_a_dead_process_is_taken_over_after_it_expires", func(t *testing.T) {
		// A dead process neither renews nor releases: write its lease by hand.
		if _, err := kv.Put(ctx, "lease."+key.String(), []byte(`{"owner":"dead","expires":"`+time.Now().Add(200*time.Millisecond).Format(time.RFC3339Nano)+`"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := second.Acquire(ctx, key); !errors.Is(err, app.ErrBusy) {
			t.Fatalf("Acquire before expiry = %v, want ErrBusy", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			rel, err := second.Acquire(ctx, key)
			if err == nil {
				rel()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lease never taken over: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestKVFailures(t *testing.T) {
	ctx, js := jetStream(t)
	failuresKV := bucket(t, ctx, js, adapters.FailuresBucket)
	f, err := adapters.NewKVFailures(failuresKV, bucket(t, ctx, js, adapters.DocumentsBucket))
	if err != nil {
		t.Fatal(err)
	}
	pending := domain.JobKey{ContractID: 9, Status: domain.StatusPending}
	signed := domain.JobKey{ContractID: 9, Status: domain.StatusSigned}
	listed := func() (*contractsyncv1.ContractFailure, bool) {
		e, err := failuresKV.Get(ctx, "9")
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, false
		}
		if err != nil {
			t.Fatal(err)
		}
		var cf contractsyncv1.ContractFailure
		if err := proto.Unmarshal(e.Value(), &cf); err != nil {
			t.Fatal(err)
		}
		return &cf, true
	}
	for _, k := range []domain.JobKey{pending, signed} {
		if err := f.Fail(ctx, app.Failure{Key: k, Reason: "no category", Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("the_contract_is_listed_with_the_archive_flow", func(t *testing.T) {
		cf, ok := listed()
		if !ok || cf.GetFlow() != eventsv1.Flow_FLOW_ARCHIVE || cf.GetReason() != "no category" || cf.GetContractId() != 9 {
			t.Fatalf("failure %+v, %v", cf, ok)
		}
	})
	t.Run("one_job_succeeding_keeps_the_contract_listed_while_another_failed", func(t *testing.T) {
		if err := f.Clear(ctx, pending); err != nil {
			t.Fatal(err)
		}
		if _, ok := listed(); !ok {
			t.Fatal("contract left the list while its Signed archive is still failed")
		}
	})
	t.Run("the_last_failed_job_succeeding_clears_the_contract", func(t *testing.T) {
		if err := f.Clear(ctx, signed); err != nil {
			t.Fatal(err)
		}
		if _, ok := listed(); ok {
			t.Fatal("contract still listed")
		}
	})
	t.Run("a_failure_of_contract_sync_is_not_cleared_by_an_archive_success", func(t *testing.T) {
		b, _ := proto.Marshal(&contractsyncv1.ContractFailure{ContractId: 9, Flow: eventsv1.Flow_FLOW_SIGN, Reason: "Flex HRM rejected flexflow's credentials"})
		if _, err := failuresKV.Put(ctx, "9", b); err != nil {
			t.Fatal(err)
		}
		if err := f.Clear(ctx, pending); err != nil {
			t.Fatal(err)
		}
		if cf, ok := listed(); !ok || cf.GetFlow() != eventsv1.Flow_FLOW_SIGN {
			t.Fatalf("contract-sync's failure was touched: %+v, %v", cf, ok)
		}
	})
}
