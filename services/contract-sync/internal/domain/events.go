package domain

import (
	"fmt"
	"strconv"
)

// Oneflow webhook event types flexflow reacts to.
const (
	EventContractCreate         = "contract:create"
	EventDataFieldUpdate        = "data_field:update"
	EventContractPublish        = "contract:publish"
	EventContractSign           = "contract:sign"
	EventContractSignatureReset = "contract:signature_reset"
	EventContractDecline        = "contract:decline"
	EventContractDelete         = "contract:delete"
)

// Oneflow contract states.
const (
	StateDraft    = "draft"
	StatePending  = "pending"
	StateOverdue  = "overdue"
	StateSigned   = "signed"
	StateDeclined = "declined"
)

// Flow names, also the keys in State.Completed.
const (
	FlowFetch     = "fetch"
	FlowPublish   = "publish"
	FlowSign      = "sign"
	FlowLifecycle = "lifecycle"
	FlowReplay    = "replay"
)

// FlowForEvent returns the flow an event type starts; ok is false for types
// flexflow ignores.
func FlowForEvent(eventType string) (flow string, ok bool) {
	switch eventType {
	case EventContractCreate, EventDataFieldUpdate:
		return FlowFetch, true
	case EventContractPublish:
		return FlowPublish, true
	case EventContractSign:
		return FlowSign, true
	case EventContractSignatureReset, EventContractDecline, EventContractDelete:
		return FlowLifecycle, true
	}
	return "", false
}

// FlowsForState returns the flows a replay runs for a contract in a given
// Oneflow state: what the contract's current state calls for.
func FlowsForState(oneflowState string) []string {
	switch oneflowState {
	case StateDraft:
		return []string{FlowFetch}
	case StatePending, StateOverdue:
		return []string{FlowPublish}
	case StateSigned:
		return []string{FlowPublish, FlowSign}
	}
	return nil
}

// Partition returns the two-digit partition of a contract:
// contract id modulo the partition count.
func Partition(contractID int64, partitions int) string {
	if partitions <= 0 {
		partitions = 1
	}
	p := contractID % int64(partitions)
	if p < 0 {
		p = -p
	}
	return fmt.Sprintf("%02d", p)
}

// WebhookSubject is the JetStream subject a contract's notifications are
// stored under.
func WebhookSubject(contractID int64, partitions int) string {
	return "flexflow.webhooks.oneflow." + Partition(contractID, partitions) + "." + strconv.FormatInt(contractID, 10)
}

// PartitionFilter is the subject filter of one partition's consumer.
func PartitionFilter(partition int) string {
	return fmt.Sprintf("flexflow.webhooks.oneflow.%02d.*", partition)
}

// ConsumerName is the durable consumer of one partition.
func ConsumerName(partition int) string {
	return fmt.Sprintf("contract-sync-p%02d", partition)
}

// SyncLogSubject is the subject of a contract's sync log.
func SyncLogSubject(contractID int64) string {
	return "flexflow.synclog." + strconv.FormatInt(contractID, 10)
}

// EventMsgID is the Nats-Msg-Id of a contract event for document-archive:
// `<contract_id>-<pending|signed>-<generation>`.
func EventMsgID(contractID int64, status string, generation int32) string {
	return fmt.Sprintf("%d-%s-%d", contractID, status, generation)
}
