package testenv

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
)

// messages reads every message of a stream matching subject.
func (e *Env) messages(stream, subject string) []jetstream.Msg {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.JS.Stream(ctx, stream)
	if err != nil {
		e.T.Fatalf("stream %s: %v", stream, err)
	}
	if _, err := s.GetLastMsgForSubject(ctx, subject); errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		e.T.Fatalf("stream info: %v", err)
	}
	var total uint64
	for _, n := range info.State.Subjects {
		total += n
	}
	cons, err := e.JS.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		e.T.Fatalf("consumer: %v", err)
	}
	var out []jetstream.Msg
	for uint64(len(out)) < total {
		batch, err := cons.Fetch(int(total)-len(out), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			e.T.Fatalf("fetch: %v", err)
		}
		got := 0
		for m := range batch.Messages() {
			out = append(out, m)
			got++
		}
		if got == 0 {
			break
		}
	}
	return out
}

// Published returns the ContractPublished events for a contract.
func (e *Env) Published(contractID int64) []*eventsv1.ContractPublished {
	var out []*eventsv1.ContractPublished
	for _, m := range e.messages("FLEXFLOW_EVENTS", "flexflow.events.contract.published") {
		var ev eventsv1.ContractPublished
		if proto.Unmarshal(m.Data(), &ev) == nil && ev.GetContractId() == contractID {
			out = append(out, &ev)
		}
	}
	return out
}

// Signed returns the ContractSigned events for a contract.
func (e *Env) Signed(contractID int64) []*eventsv1.ContractSigned {
	var out []*eventsv1.ContractSigned
	for _, m := range e.messages("FLEXFLOW_EVENTS", "flexflow.events.contract.signed") {
		var ev eventsv1.ContractSigned
		if proto.Unmarshal(m.Data(), &ev) == nil && ev.GetContractId() == contractID {
			out = append(out, &ev)
		}
	}
	return out
}

// WebhookMessages counts the messages stored on the webhook stream.
func (e *Env) WebhookMessages() uint64 {
	e.T.Helper()
	s, err := e.JS.Stream(context.Background(), "FLEXFLOW_WEBHOOKS")
	if err != nil {
		e.T.Fatalf("stream: %v", err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		e.T.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}
