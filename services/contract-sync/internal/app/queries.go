package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Queries serves the operator API: sync state and log, replay, failures.
type Queries struct {
	states   StateStore
	synclog  SyncLog
	failures FailureStore
	queue    WebhookQueue
}

// NewQueries wires Queries.
func NewQueries(states StateStore, synclog SyncLog, failures FailureStore, queue WebhookQueue) (*Queries, error) {
	if states == nil || synclog == nil || failures == nil || queue == nil {
		return nil, errors.New("app.NewQueries: nil dependency")
	}
	return &Queries{states: states, synclog: synclog, failures: failures, queue: queue}, nil
}

// ErrInvalidArgument is a request the caller must fix.
var ErrInvalidArgument = errors.New("invalid argument")

// ContractSync returns a contract's state and its log, oldest first.
func (q *Queries) ContractSync(ctx context.Context, contractID int64) (*contractsyncv1.GetContractSyncResponse, error) {
	if contractID <= 0 {
		return nil, fmt.Errorf("%w: contract_id must be a positive number", ErrInvalidArgument)
	}
	st, err := q.states.Get(ctx, contractID)
	if err != nil {
		return nil, err
	}
	entries, err := q.synclog.Read(ctx, contractID)
	if err != nil {
		return nil, err
	}
	return &contractsyncv1.GetContractSyncResponse{Sync: SyncView(contractID, st), Entries: entries}, nil
}

// SyncView maps the state to the API message.
func SyncView(contractID int64, st domain.State) *contractsyncv1.ContractSync {
	v := &contractsyncv1.ContractSync{
		ContractId:     contractID,
		Status:         statusEnum(st.Status),
		OneflowState:   st.OneflowState,
		EmployeeNumber: st.FetchedNumber,
		CompletedFlows: st.CompletedFlows(),
		Generation:     st.Generation,
	}
	if st.LastFailure != nil && st.Status == domain.StatusFailed {
		v.LastFailure = st.LastFailure.Reason
	}
	if st.Pending != nil && st.Pending.LastReason != "" && v.LastFailure == "" {
		v.LastFailure = "retrying: " + st.Pending.LastReason
	}
	if !st.UpdatedTime.IsZero() {
		v.UpdatedTime = timestamppb.New(st.UpdatedTime)
	}
	return v
}

func statusEnum(s domain.Status) contractsyncv1.SyncStatus {
	switch s {
	case domain.StatusInProgress:
		return contractsyncv1.SyncStatus_SYNC_STATUS_IN_PROGRESS
	case domain.StatusInSync:
		return contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC
	case domain.StatusWaiting:
		return contractsyncv1.SyncStatus_SYNC_STATUS_WAITING
	case domain.StatusFailed:
		return contractsyncv1.SyncStatus_SYNC_STATUS_FAILED
	case domain.StatusIgnored:
		return contractsyncv1.SyncStatus_SYNC_STATUS_IGNORED
	}
	return contractsyncv1.SyncStatus_SYNC_STATUS_UNKNOWN
}

// Replay queues a replay message on the contract's webhook subject, so it
// runs in order with the contract's other events.
func (q *Queries) Replay(ctx context.Context, contractID int64) error {
	if contractID <= 0 {
		return fmt.Errorf("%w: contract_id must be a positive number", ErrInvalidArgument)
	}
	return q.queue.EnqueueReplay(ctx, contractID)
}

// Failures returns one page of failed contracts, newest first. The page
// token is the offset into that order.
func (q *Queries) Failures(ctx context.Context, pageSize int32, pageToken string) (*contractsyncv1.ListFailuresResponse, error) {
	switch {
	case pageSize < 0:
		return nil, fmt.Errorf("%w: page_size must not be negative", ErrInvalidArgument)
	case pageSize == 0:
		pageSize = 50
	case pageSize > 500:
		pageSize = 500
	}
	offset := 0
	if pageToken != "" {
		n, err := strconv.Atoi(pageToken)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: page_token is not one this service issued", ErrInvalidArgument)
		}
		offset = n
	}
	all, err := q.failures.List(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool {
		ti, tj := all[i].GetFailedTime().AsTime(), all[j].GetFailedTime().AsTime()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return all[i].GetContractId() > all[j].GetContractId()
	})
	resp := &contractsyncv1.ListFailuresResponse{}
	if offset >= len(all) {
		return resp, nil
	}
	end := min(offset+int(pageSize), len(all))
	resp.Failures = all[offset:end]
	if end < len(all) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}
