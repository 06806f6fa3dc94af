package service_test

import (
	"testing"
	"time"

	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

func TestWebhooksStoredWhileWorkersAreDownAreProcessedAfterARestart(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Restart(func(c *service.Config) { c.Workers = false })
	id := create(t, e, templateEmail, "1001")
	e.Eventually("the webhook is stored", func() bool { return e.WebhookMessages() > 0 })
	if n := e.Oneflow.CountRequests("GET /v1/contracts/{id}", 200); n != 0 {
		t.Fatalf("an ingest-only replica read the contract %d times", n)
	}
	e.Restart(nil)
	e.Idle()
	c := contract(t, e, id)
	if c.Private.Name != annaTemplateName || countEmail(c, annaEmail) != 1 {
		t.Errorf("contract after restart: name %q, participants %+v", c.Private.Name, participants(c))
	}
}

func TestShutdownLetsAFlowInProgressFinishAndARestartDoesNotRepeatIt(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.Oneflow.SetLatency("", 150*time.Millisecond)
	id := create(t, e, templateEmail, "1001")
	e.Eventually("the fetch started", func() bool { return e.Oneflow.CountRequests("GET /v1/contracts/{id}", 200) > 0 })
	e.Restart(nil) // Close drains: the flow in progress finishes and is acked
	e.Oneflow.SetLatency("", 0)
	e.Idle()
	c := contract(t, e, id)
	if countEmail(c, annaEmail) != 1 || countEmail(c, managerEmail) != 1 {
		t.Errorf("participants = %+v", participants(c))
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}/data_fields", 200); n != 1 {
		t.Errorf("field writes = %d, want 1", n)
	}
	if n := e.Oneflow.CountRequests("PUT /v1/contracts/{id}", 200); n != 1 {
		t.Errorf("renames = %d, want 1", n)
	}
}
