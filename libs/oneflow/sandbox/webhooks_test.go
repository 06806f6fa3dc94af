package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

func TestEachAppActionSendsTheWebhooksOneflowWould(t *testing.T) {
	rcv := newReceiver(t)
	srv := startSandbox(t, sandbox.Options{WebhookURL: rcv.srv.URL})
	client := newClient(t, srv)
	ctx := t.Context()

	var want []string
	step := func(name string, action func() error, events ...string) {
		t.Helper()
		if err := action(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		waitDelivered(t, srv)
		want = append(want, events...)
		if got := rcv.eventTypes(); !slices.Equal(got, want) {
			t.Fatalf("after %s the listener got %v, want %v", name, got, want)
		}
	}

	var c oneflow.Contract
	step("creating a contract with an employee number", func() (err error) {
		c, err = srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail, EmployeeNumber: "1001"})
		return err
	}, oneflow.EventContractCreate)
	if v, _ := oneflow.DataFieldValue(c, oneflow.CustomIDEmployeeNumber); v != "1001" {
		t.Fatalf("employee number %q, want 1001", v)
	}
	step("changing a data field in the app", func() error {
		return srv.SetDataField(c.ID, oneflow.CustomIDEmployeeNumber, "1002")
	}, oneflow.EventDataFieldUpdate)
	step("writing the same value again", func() error {
		return srv.SetDataField(c.ID, oneflow.CustomIDEmployeeNumber, "1002")
	})
	step("writing two fields through the Public API (our own writes echo back)", func() error {
		return client.UpdateDataFields(ctx, c.ID, []oneflow.DataFieldUpdate{
			{CustomID: oneflow.CustomIDFirstName, Value: "Anna"}, {CustomID: oneflow.CustomIDSurname, Value: "Andersson"}})
	}, oneflow.EventDataFieldUpdate, oneflow.EventDataFieldUpdate)
	var employee oneflow.Party
	step("adding a counterparty through the API", func() (err error) {
		employee, err = client.AddCounterparty(ctx, c.ID, oneflow.NewParticipant{
			Name: "Anna Andersson", Email: "anna@example.se", Signatory: true})
		return err
	})
	step("renaming", func() error { return srv.SetContractName(c.ID, "Anna Andersson - Employment") })
	step("publishing", func() error { return srv.Publish(c.ID) }, oneflow.EventContractPublish)
	owner, _ := oneflow.OwnerSideParty(c)
	step("the owner side signing while the employee has not", func() error {
		return srv.Sign(c.ID, owner.Participants[0].ID)
	})
	step("resetting signatures", func() error { return srv.ResetSignatures(c.ID) }, oneflow.EventContractSignatureReset)
	step("the owner side signing again", func() error { return srv.Sign(c.ID, owner.Participants[0].ID) })
	step("the employee signing last", func() error {
		return srv.Sign(c.ID, employee.Participants[0].ID)
	}, oneflow.EventContractSign)
	signed, err := srv.Contract(c.ID)
	if err != nil || signed.State != oneflow.StateSigned {
		t.Fatalf("contract state %q (%v), want signed", signed.State, err)
	}

	var declined oneflow.Contract
	step("creating a second contract", func() (err error) {
		declined, err = srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateSMS})
		return err
	}, oneflow.EventContractCreate)
	step("publishing it", func() error { return srv.Publish(declined.ID) }, oneflow.EventContractPublish)
	step("declining it", func() error { return srv.Decline(declined.ID, 0) }, oneflow.EventContractDecline)
	step("deleting it", func() error { return srv.DeleteContract(declined.ID) }, oneflow.EventContractDelete)

	seen := map[string]bool{}
	for _, n := range rcv.accepted() {
		if len(n.Events) != 1 {
			t.Errorf("a notification with %d events, want one", len(n.Events))
		}
		if seen[n.CallbackID] {
			t.Errorf("callback id %s used for two notifications", n.CallbackID)
		}
		seen[n.CallbackID] = true
		if n.Events[0].ID == 0 || n.Events[0].CreatedTime == "" {
			t.Errorf("an event without id or created_time: %+v", n.Events[0])
		}
	}
}

func TestAWebhookIsResentOnOneflowsScheduleUntilExactly200(t *testing.T) {
	rcv := newReceiver(t)
	// Oneflow counts every status but 200 as a failure, 2xx included.
	statuses := []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusAccepted, http.StatusNoContent, http.StatusOK}
	rcv.setRespond(func(_ oneflow.Notification, arrival int) int { return statuses[min(arrival, len(statuses))-1] })
	const scale = 0.001
	srv := startSandbox(t, sandbox.Options{WebhookURL: rcv.srv.URL, TimeScale: scale})

	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, srv)

	deliveries := srv.Deliveries()
	if len(deliveries) != 1 {
		t.Fatalf("%d deliveries, want 1", len(deliveries))
	}
	d := deliveries[0]
	if d.State != sandbox.DeliveryDelivered || d.ContractID != c.ID || d.EventType != oneflow.EventContractCreate {
		t.Fatalf("delivery %+v", d)
	}
	var got []int
	for _, a := range d.Attempts {
		got = append(got, a.Status)
	}
	if !slices.Equal(got, statuses) {
		t.Fatalf("attempt statuses %v, want %v", got, statuses)
	}
	// Timers never fire early: each resend waited at least the scaled
	// schedule.
	schedule := sandbox.ResendSchedule()
	for i := 1; i < len(d.Attempts); i++ {
		gap := d.Attempts[i].At.Sub(d.Attempts[i-1].At)
		if min := time.Duration(float64(schedule[i-1]) * scale); gap < min {
			t.Errorf("resend %d came %v after the previous attempt, before the scheduled %v", i, gap, min)
		}
	}
	if n := len(rcv.accepted()); n != 1 {
		t.Errorf("the listener accepted %d notifications, want 1", n)
	}
}

func TestAWebhookIsGivenUpAfterTenAttempts(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setRespond(func(oneflow.Notification, int) int { return http.StatusCreated })
	srv := startSandbox(t, sandbox.Options{WebhookURL: rcv.srv.URL, TimeScale: 0.00001})
	if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitForDeliveries(t.Context()); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("WaitForDeliveries: %v, want a failure", err)
	}
	d := srv.Deliveries()[0]
	if d.State != sandbox.DeliveryFailed || len(d.Attempts) != sandbox.MaxDeliveryAttempts || sandbox.MaxDeliveryAttempts != 10 {
		t.Fatalf("state %s after %d attempts, want failed after 10", d.State, len(d.Attempts))
	}
}

func TestDuplicateDeliveriesShareTheCallbackID(t *testing.T) {
	rcv := newReceiver(t)
	srv := startSandbox(t, sandbox.Options{WebhookURL: rcv.srv.URL, DuplicateDeliveries: 3})
	if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, srv)
	got := rcv.accepted()
	if len(got) != 3 {
		t.Fatalf("%d notifications arrived, want 3", len(got))
	}
	for _, n := range got[1:] {
		if n.CallbackID != got[0].CallbackID {
			t.Fatalf("duplicates carry different callback ids")
		}
	}
}

func TestPausedWebhooksWaitForResume(t *testing.T) {
	rcv := newReceiver(t)
	srv := startSandbox(t, sandbox.Options{WebhookURL: rcv.srv.URL})
	srv.PauseWebhooks()
	if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
		t.Fatal(err)
	}
	d := srv.Deliveries()
	if len(d) != 1 || d[0].State != sandbox.DeliveryPending || len(d[0].Attempts) != 0 {
		t.Fatalf("while paused: %+v", d)
	}
	srv.ResumeWebhooks()
	waitDelivered(t, srv)
	if n := len(rcv.accepted()); n != 1 {
		t.Fatalf("%d notifications after resume, want 1", n)
	}
}

func TestWithoutAWebhookURLNotificationsAreRecordedAsSkipped(t *testing.T) {
	srv := startSandbox(t, sandbox.Options{})
	if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, srv)
	if d := srv.Deliveries(); len(d) != 1 || d[0].State != sandbox.DeliverySkipped {
		t.Fatalf("deliveries %+v", d)
	}
}

func TestCloseStopsEveryDeliveryGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rcv := newReceiver(t)
	rcv.setRespond(func(oneflow.Notification, int) int { return http.StatusInternalServerError })
	srv, err := sandbox.Start(sandbox.Options{WebhookURL: rcv.srv.URL, SignKey: testSignKey, TimeScale: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for the first attempts; the resends now wait seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		attempted := 0
		for _, d := range srv.Deliveries() {
			if len(d.Attempts) > 0 {
				attempted++
			}
		}
		if attempted == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first attempts did not happen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rcv.srv.Close()
	for _, d := range srv.Deliveries() {
		if d.State != sandbox.DeliveryCancelled {
			t.Errorf("delivery state %s after Close, want cancelled", d.State)
		}
	}
}

func TestAPersonCanCreateAndSignWithPlainHTTPAndWatchWebhooksArrive(t *testing.T) {
	rcv := newReceiver(t)
	srv := startSandbox(t, sandbox.Options{})
	post := func(path string, body string) []byte {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		resp, err := http.Post(srv.URL()+path, "application/json", rd)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	post("/_sandbox/webhooks/config", `{"url":"`+rcv.srv.URL+`"}`)
	var c oneflow.Contract
	if err := json.Unmarshal(post("/_sandbox/contracts", `{"template_id":11,"employee_number":"1001"}`), &c); err != nil {
		t.Fatal(err)
	}
	id := "/_sandbox/contracts/" + itoa(c.ID)
	post(id+"/publish", "")
	signed := post(id+"/sign", "")
	if !bytes.Contains(signed, []byte(`"state":"signed"`)) {
		t.Fatalf("after signing: %s", signed)
	}
	post("/_sandbox/webhooks/wait", "")
	// Like Oneflow's, deliveries run concurrently: order is not guaranteed.
	want := []string{oneflow.EventContractCreate, oneflow.EventContractPublish, oneflow.EventContractSign}
	got := rcv.eventTypes()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the listener got %v, want %v", got, want)
	}

	resp, err := http.Get(srv.URL() + "/_sandbox/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var deliveries []sandbox.Delivery
	if err := json.NewDecoder(resp.Body).Decode(&deliveries); err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 3 || deliveries[2].Attempts[0].Status != http.StatusOK {
		t.Fatalf("deliveries as listed: %+v", deliveries)
	}
}

func TestAResendStormSendsEachNotificationBetweenLowAndHighTimes(t *testing.T) {
	rcv := newReceiver(t)
	srv := startSandbox(t, sandbox.Options{WebhookURL: rcv.srv.URL, DeliveryJitter: 5 * time.Millisecond})
	srv.SetDuplicateDeliveriesRange(3, 10)
	for range 5 {
		if _, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail}); err != nil {
			t.Fatal(err)
		}
	}
	waitDelivered(t, srv)
	perCallback := map[string]int{}
	for _, n := range rcv.accepted() {
		perCallback[n.CallbackID]++
	}
	if len(perCallback) != 5 {
		t.Fatalf("%d distinct callback ids, want 5", len(perCallback))
	}
	for id, n := range perCallback {
		if n < 3 || n > 10 {
			t.Errorf("callback %s arrived %d times, want 3 to 10", id, n)
		}
	}
}
