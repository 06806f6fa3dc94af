package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

func failures(t *testing.T, e *testenv.Env) []*contractsyncv1.ContractFailure {
	t.Helper()
	resp, err := e.Client.ListFailures(testenv.Operator(context.Background()), &contractsyncv1.ListFailuresRequest{})
	if err != nil {
		t.Fatalf("ListFailures: %v", err)
	}
	return resp.GetFailures()
}

func failureOf(t *testing.T, e *testenv.Env, id int64) *contractsyncv1.ContractFailure {
	for _, f := range failures(t, e) {
		if f.GetContractId() == id {
			return f
		}
	}
	return nil
}

func replay(t *testing.T, e *testenv.Env, id int64) {
	t.Helper()
	if _, err := e.Client.ReplayContract(testenv.Operator(context.Background()), &contractsyncv1.ReplayContractRequest{ContractId: id}); err != nil {
		t.Fatalf("ReplayContract: %v", err)
	}
}

// createPair creates two contracts that land in the same partition.
func createPair(t *testing.T, e *testenv.Env) (first, second int64) {
	t.Helper()
	first = create(t, e, templateEmail, "1001")
	for {
		id := create(t, e, templateEmail, "1002")
		if id%testenv.Partitions == first%testenv.Partitions {
			return first, id
		}
	}
}

func TestATransientlyFailingContractIsParkedWithoutBlockingItsPartitionAndCompletesLater(t *testing.T) {
	e := testenv.New(t, testenv.Options{Configure: func(c *service.Config) {
		c.OneflowRequestTimeout = 200 * time.Millisecond
		c.RetryBudget = time.Minute
		c.RetryBaseDelay = 100 * time.Millisecond
		c.RetryMaxDelay = 300 * time.Millisecond
	}})
	e.Oneflow.PauseWebhooks()
	stuck, neighbour := createPair(t, e)
	path := fmt.Sprintf("/v1/contracts/%d/parties", stuck)
	e.Oneflow.SetLatency(path, time.Hour)
	e.Oneflow.ResumeWebhooks()

	e.Eventually("the neighbour in the same partition is filled", func() bool {
		return countEmail(contract(t, e, neighbour), "bo.ek@example.se") == 1
	})
	if countEmail(contract(t, e, stuck), annaEmail) != 0 {
		t.Fatal("the stuck contract got its participant while Oneflow hung")
	}
	e.Eventually("a retry is scheduled", func() bool {
		return hasStep(e.Sync(stuck).GetEntries(), "retry_scheduled", eventsv1.Outcome_OUTCOME_WARNING) != nil
	})
	e.Oneflow.SetLatency(path, 0)
	e.Eventually("the stuck contract completes", func() bool {
		return e.Sync(stuck).GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC
	})
	e.Idle()
	if n := countEmail(contract(t, e, stuck), annaEmail); n != 1 {
		t.Errorf("employee participants = %d, want 1", n)
	}
}

func TestAnOutageLongerThanTheBudgetFailsTheContractAndAReplayAfterRecoveryCompletesIt(t *testing.T) {
	e := testenv.New(t, testenv.Options{Configure: func(c *service.Config) {
		c.OneflowRequestTimeout = 200 * time.Millisecond
		c.RetryBudget = time.Second
		c.RetryBaseDelay = 100 * time.Millisecond
		c.RetryMaxDelay = 200 * time.Millisecond
	}})
	e.Oneflow.PauseWebhooks()
	id := create(t, e, templateEmail, "1001")
	path := fmt.Sprintf("/v1/contracts/%d/parties", id)
	e.Oneflow.SetLatency(path, time.Hour)
	e.Oneflow.ResumeWebhooks()
	e.Eventually("the contract is listed as failed", func() bool { return failureOf(t, e, id) != nil })
	f := failureOf(t, e, id)
	if !strings.Contains(f.GetReason(), "gave up after retrying") || !strings.Contains(f.GetReason(), "Oneflow") ||
		f.GetFlow() != eventsv1.Flow_FLOW_FETCH || f.GetTraceId() == "" {
		t.Errorf("failure = %+v", f)
	}
	if s := e.Sync(id).GetSync(); s.GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_FAILED || s.GetLastFailure() == "" {
		t.Errorf("sync = %+v", s)
	}
	e.Oneflow.SetLatency(path, 0)
	replay(t, e, id)
	e.Eventually("the replay completes the contract", func() bool {
		return e.Sync(id).GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC
	})
	e.Idle()
	if failureOf(t, e, id) != nil {
		t.Error("the failure is still listed after a successful replay")
	}
	c := contract(t, e, id)
	if countEmail(c, annaEmail) != 1 || countEmail(c, managerEmail) != 1 {
		t.Errorf("participants = %+v", participants(c))
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}/data_fields", 200); n != 1 {
		t.Errorf("field writes = %d, want 1 (filled before the outage, equal on replay)", n)
	}
}

func TestRevokedCredentialsFailAtOnceNamingWhichAndReplayRecovers(t *testing.T) {
	e := testenv.New(t, testenv.Options{})

	e.Oneflow.RevokeToken()
	id := create(t, e, templateEmail, "1001")
	e.Eventually("Oneflow credentials failure", func() bool { return failureOf(t, e, id) != nil })
	if r := failureOf(t, e, id).GetReason(); !strings.Contains(r, "Oneflow rejected flexflow's API token") {
		t.Errorf("reason = %q", r)
	}
	if n := e.Oneflow.CountRequests("GET /v1/contracts/{id}", 401); n > 2 {
		t.Errorf("%d refused reads: a retry storm", n)
	}
	e.Oneflow.RestoreToken()
	replay(t, e, id)
	e.Eventually("replay after the token is back", func() bool { return failureOf(t, e, id) == nil })
	e.Idle()

	e.Flex.SetCredentialsRevoked(true)
	e.Flex.ClearRequests()
	other := create(t, e, templateEmail, "1002")
	e.Eventually("Flex HRM credentials failure", func() bool { return failureOf(t, e, other) != nil })
	if r := failureOf(t, e, other).GetReason(); !strings.Contains(r, "Flex HRM rejected flexflow's credentials") {
		t.Errorf("reason = %q", r)
	}
	if n := len(e.Flex.Requests()); n > 2 {
		t.Errorf("%d calls to Flex HRM with revoked credentials: a retry storm", n)
	}
	e.Flex.SetCredentialsRevoked(false)
	replay(t, e, other)
	e.Eventually("replay after the credentials are back", func() bool {
		return e.Sync(other).GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC
	})
	if got := failures(t, e); len(got) != 0 {
		t.Errorf("failures left: %v", got)
	}
}

func TestARateLimitedWriteWaitsInLineAndCompletesWithoutParking(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	if err := e.Oneflow.Publish(id); err != nil {
		t.Fatal(err)
	}
	if err := e.Oneflow.SetDataField(id, "flexhrm_city", "Umeå"); err != nil {
		t.Fatal(err)
	}
	e.Idle()
	if err := e.Flex.FailNext(flexsandbox.FailRule{PathID: "P3", Method: "PUT", Count: 2, Status: 429, RetryAfterSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.Oneflow.SignAll(id); err != nil {
		t.Fatal(err)
	}
	e.Eventually("the signed contract is written back", func() bool {
		return e.Sync(id).GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC && len(e.Signed(id)) == 1
	})
	if hasStep(e.Sync(id).GetEntries(), "retry_scheduled", eventsv1.Outcome_OUTCOME_WARNING) != nil {
		t.Error("a rate-limited write was parked instead of waiting in line")
	}
	if n := flexCount(e, "PUT", "P3"); n != 1 {
		t.Errorf("successful employee PUTs = %d, want 1", n)
	}
	var refused []time.Time
	for _, r := range e.Flex.Requests() {
		if r.PathID == "P3" && r.Method == "PUT" && r.Status == 429 {
			refused = append(refused, r.Time)
		}
	}
	t.Logf("429s at %v", refused)
}
