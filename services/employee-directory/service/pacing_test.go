package service_test

import (
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/natsx"
	edv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"

	"github.com/flexflow/flexflow/services/employee-directory/service"
)

// TestFlexHRMRefusalsAreToldToThePeersOverNATS plays document-archive's side
// of the link with natsx.Refusals: a 429 the service gets from Flex HRM
// reaches it with the Retry-After.
func TestFlexHRMRefusalsAreToldToThePeersOverNATS(t *testing.T) {
	srv, err := natsx.RunServer(t.Context(), natsx.ServerOptions{DataDir: t.TempDir(), ServerName: "ed-pacing"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	h := start(t, func(c *service.Config, _ *sandbox.Server) { c.NATSURL = srv.ClientURL() }).ready(t)

	peer, err := natsx.Connect(t.Context(), natsx.Options{URL: srv.ClientURL(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	creds, err := flexhrm.ParseCredentials(h.sandbox.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	archive, err := natsx.NewRefusals(peer.NC, flexhrm.RateLimitKey(creds), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	heard := make(chan time.Duration, 100)
	if err := archive.Listen(func(d time.Duration) { heard <- d }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = archive.Close() })

	if err := h.sandbox.SetRateLimit(sandbox.RateLimit{RequestsPerSecond: 1, Burst: 1, RetryAfterSeconds: 2}); err != nil {
		t.Fatal(err)
	}
	// Several lookups at once: the second in the bucket's second is refused
	// (whether the read then succeeds within its retry budget is not the
	// point here).
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, _ = h.client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna})
		})
	}
	wg.Wait()
	select {
	case d := <-heard:
		if d != 2*time.Second {
			t.Fatalf("heard Retry-After %v, want the sandbox's 2s", d)
		}
	case <-time.After(10 * time.Second): // a hang guard, not a measurement
		t.Fatal("no refusal reached the peer over NATS")
	}
}

// TestServesWhileNATSIsUnreachable: NATS carries only best-effort notices
// for employee-directory, so a NATS_URL nobody answers must not hold up
// start-up or health.
func TestServesWhileNATSIsUnreachable(t *testing.T) {
	h := start(t, func(c *service.Config, _ *sandbox.Server) { c.NATSURL = "nats://127.0.0.1:1" }).ready(t)
	if _, err := h.client.GetEmployee(t.Context(), &edv1.GetEmployeeRequest{EmployeeNumber: sandbox.EmploymentNumberAnna}); err != nil {
		t.Fatalf("GetEmployee with NATS unreachable: %v", err)
	}
}
