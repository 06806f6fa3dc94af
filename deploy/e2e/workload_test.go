package e2e

// A workload of contracts played through their whole life in the Oneflow
// sandbox, each with what its events imply flexflow must have done exactly
// once, and the check of that against the sandboxes' request logs and
// stored state.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
)

// Seed values the workload builds on (the sandboxes' default seeds).
const (
	seedCompanyA      = "c0000000-0000-4000-8000-00000000000a"
	seedManagerID     = "e0000000-0000-4000-8000-000000001000"
	seedManagerEmail  = "maria.manager@example.se"
	customIDNumber    = "flexhrm_employee_number"
	customIDFirstName = "flexhrm_first_name"
	customIDSurname   = "flexhrm_surname"
	customIDEmail     = "flexhrm_email_work"
	customIDCity      = "flexhrm_city"
	customIDStart     = "flexhrm_employment_start"
)

// templates of the Flex HRM template type whose delivery channel and
// two-step method need what every workload employee has (email and mobile).
var workloadTemplates = []struct {
	id   int
	name string
}{
	{11, "Employment contract (email)"},
	{12, "Employment contract (SMS)"},
	{13, "Employment contract (email and SMS)"},
	{16, "Employment contract (SMS verification)"},
}

// life is the story a contract goes through.
type life int

const (
	// lifeSigned: created with an employee number, fields changed in draft,
	// published, signed.
	lifeSigned life = iota
	// lifeNumberLater: created without a number, the number typed right
	// after (create and data_field:update race), then as lifeSigned.
	lifeNumberLater
	// lifeDeclined: published, then declined: nothing written back.
	lifeDeclined
	// lifeSignatureReset: published, signatures reset (a second Pending
	// version), then signed.
	lifeSignatureReset
	// lifeNumberChanged: created for one employee, the number changed in
	// draft to another (participant replaced), then as lifeSigned.
	lifeNumberChanged
)

func (l life) String() string {
	return [...]string{"signed", "number typed later", "declined", "signature reset", "number changed"}[l]
}

func lifeFor(i int) life {
	switch i % 10 {
	case 4:
		return lifeNumberLater
	case 7:
		return lifeDeclined
	case 8:
		return lifeSignatureReset
	case 9:
		return lifeNumberChanged
	}
	return lifeSigned
}

// employee is a Flex HRM employee the workload added to the sandbox.
type employee struct {
	ID, Number, First, Last, Email string
}

func (e employee) name() string { return e.First + " " + e.Last }

// contractLife is one contract of the workload.
type contractLife struct {
	i        int
	life     life
	template int
	tplName  string
	emp      employee  // the employee the contract ends with
	previous *employee // lifeNumberChanged: the employee it started with
	city     string
	start    string

	id  int64
	err error
}

// signed reports whether the contract ends signed (written back to Flex HRM).
func (c *contractLife) signed() bool { return c.life != lifeDeclined }

// expected side effects of a contract, exactly.
type expectation struct {
	dataFieldPUTs, counterpartyPOSTs, colleaguePOSTs, participantDELETEs, renames int
	employeePUTs, periods                                                         int
	pendingDocs, signedDocs                                                       int
	finalState                                                                    string
}

func (c *contractLife) expect() expectation {
	e := expectation{dataFieldPUTs: 1, counterpartyPOSTs: 1, colleaguePOSTs: 1, renames: 1,
		pendingDocs: 1, finalState: "signed"}
	if c.life == lifeNumberChanged {
		// Filled for the first employee, then refilled, the participant
		// replaced and the name set again for the second; the manager is
		// the same person and stays.
		e.dataFieldPUTs, e.counterpartyPOSTs, e.participantDELETEs, e.renames = 2, 2, 1, 2
	}
	if c.life == lifeSignatureReset {
		e.pendingDocs = 2
	}
	if c.signed() {
		e.employeePUTs, e.periods, e.signedDocs = 1, 1, 1
	} else {
		e.finalState = "declined"
	}
	return e
}

func (c *contractLife) name() string { return c.emp.name() + " - " + c.tplName }

// workload is N contracts, their employees, and the system they run on.
type workload struct {
	sys       *system
	contracts []*contractLife
	// wait bounds each wait for one step of one contract.
	wait time.Duration
	// polls bounds the status calls in flight.
	polls chan struct{}
	// failuresExpected keeps waiting through a FAILED sync status (a test
	// that replays failed contracts); otherwise a failure ends the wait.
	failuresExpected bool
	// beforeStep, when set, runs before each lifecycle action (the chaos
	// tests use it to pace the run).
	beforeStep func(c *contractLife, step string)
}

// newWorkload adds the employees of n contracts to the Flex HRM sandbox.
func newWorkload(ctx context.Context, t *testing.T, sys *system, n int) *workload {
	t.Helper()
	w := &workload{sys: sys, wait: 2 * time.Minute, polls: make(chan struct{}, 6)}
	next := 0
	addEmployee := func() employee {
		next++
		e := employee{
			Number: strconv.Itoa(60000 + next),
			First:  "Kim" + strconv.Itoa(next),
			Last:   "Kaos",
			Email:  fmt.Sprintf("kim%d.kaos@example.se", next),
		}
		body := map[string]any{
			"companyId": seedCompanyA, "firstName": e.First, "lastName": e.Last,
			"emailWork": e.Email, "phone4": fmt.Sprintf("+46709%06d", next),
			"addressRow2": "Storgatan " + strconv.Itoa(next), "postalCode": "11122", "city": "Stockholm", "country": "Sverige",
			"immediateManagerEmployeeId": seedManagerID,
			"employment":                 []map[string]string{{"employmentNumber": e.Number}},
		}
		var added struct {
			ID string `json:"id"`
		}
		sys.must(sys.flex(ctx, http.MethodPost, "/_sandbox/employees", body, &added))
		e.ID = added.ID
		return e
	}
	for i := 0; i < n; i++ {
		tpl := workloadTemplates[i%len(workloadTemplates)]
		c := &contractLife{i: i, life: lifeFor(i), template: tpl.id, tplName: tpl.name,
			city:  "Kaosby " + strconv.Itoa(i),
			start: fmt.Sprintf("2027-%02d-%02d", 1+i%12, 1+i%28)}
		if c.life == lifeNumberChanged {
			prev := addEmployee()
			c.previous = &prev
		}
		c.emp = addEmployee()
		w.contracts = append(w.contracts, c)
	}
	return w
}

// run plays every contract's life, at most parallel at once, and returns
// the contracts that could not finish.
func (w *workload) run(ctx context.Context, parallel int) []error {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, c := range w.contracts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.err = w.play(ctx, c)
		}()
		// Spread the creates a little, as HR admins would.
		time.Sleep(jitter(5*time.Millisecond, 40*time.Millisecond))
	}
	wg.Wait()
	var errs []error
	for _, c := range w.contracts {
		if c.err != nil {
			errs = append(errs, fmt.Errorf("contract #%d (%s, id %d): %w", c.i, c.life, c.id, c.err))
		}
	}
	return errs
}

func (w *workload) step(c *contractLife, name string) {
	if w.beforeStep != nil {
		w.beforeStep(c, name)
	}
}

// play is one contract's life in the Oneflow app, waiting after each step
// for flexflow to finish what it implies, as an HR admin would before the
// next click.
func (w *workload) play(ctx context.Context, c *contractLife) error {
	for _, step := range []func(context.Context, *contractLife) error{w.create, w.fill, w.changeDraft, w.publish, w.conclude} {
		if err := step(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// create makes the draft (typing the number right after for
// lifeNumberLater).
func (w *workload) create(ctx context.Context, c *contractLife) error {
	first := c.emp
	if c.previous != nil {
		first = *c.previous
	}
	body := map[string]any{"template_id": c.template}
	if c.life != lifeNumberLater {
		body["employee_number"] = first.Number
	}
	w.step(c, "create")
	var created struct {
		ID int64 `json:"id"`
	}
	if err := w.sys.oneflow(ctx, http.MethodPost, "/_sandbox/contracts", body, &created); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	c.id = created.ID
	if c.life == lifeNumberLater {
		w.step(c, "type the employee number")
		return w.setField(ctx, c, customIDNumber, first.Number)
	}
	return nil
}

// fill waits for the fetch flow (twice for lifeNumberChanged, with the
// number changed in between).
func (w *workload) fill(ctx context.Context, c *contractLife) error {
	first := c.emp
	if c.previous != nil {
		first = *c.previous
	}
	if err := w.waitFetched(ctx, c, first.Number); err != nil {
		return err
	}
	if c.life != lifeNumberChanged {
		return nil
	}
	w.step(c, "change the employee number")
	if err := w.setField(ctx, c, customIDNumber, c.emp.Number); err != nil {
		return err
	}
	return w.waitFetched(ctx, c, c.emp.Number)
}

// changeDraft types a new city and start date, to be written back on sign.
func (w *workload) changeDraft(ctx context.Context, c *contractLife) error {
	w.step(c, "change city and start")
	if err := w.setField(ctx, c, customIDCity, c.city); err != nil {
		return err
	}
	return w.setField(ctx, c, customIDStart, c.start)
}

// publish sends the contract for signing and waits for its Pending PDF.
func (w *workload) publish(ctx context.Context, c *contractLife) error {
	w.step(c, "publish")
	if err := w.sys.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/publish", c.id), nil, nil); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return w.waitDocuments(ctx, c, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING, 1)
}

// conclude declines, or (after a signature reset for lifeSignatureReset)
// signs and waits for the write-back and the Signed PDF.
func (w *workload) conclude(ctx context.Context, c *contractLife) error {
	s := w.sys
	switch c.life {
	case lifeDeclined:
		w.step(c, "decline")
		if err := s.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/decline", c.id), nil, nil); err != nil {
			return fmt.Errorf("decline: %w", err)
		}
		return w.waitSync(ctx, c, "declined", func(r *contractsyncv1.GetContractSyncResponse) bool {
			return r.GetSync().GetOneflowState() == "declined"
		})
	case lifeSignatureReset:
		w.step(c, "reset signatures")
		if err := s.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/reset-signatures", c.id), nil, nil); err != nil {
			return fmt.Errorf("reset signatures: %w", err)
		}
		if err := w.waitDocuments(ctx, c, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING, 2); err != nil {
			return err
		}
	}
	w.step(c, "sign")
	if err := s.oneflow(ctx, http.MethodPost, fmt.Sprintf("/_sandbox/contracts/%d/sign", c.id), nil, nil); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	return w.waitSigned(ctx, c)
}

// waitSigned waits for the sign flow and the Signed PDF.
func (w *workload) waitSigned(ctx context.Context, c *contractLife) error {
	if err := w.waitSync(ctx, c, "sign", func(r *contractsyncv1.GetContractSyncResponse) bool {
		return slices.Contains(r.GetSync().GetCompletedFlows(), "sign")
	}); err != nil {
		return err
	}
	return w.waitDocuments(ctx, c, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED, 1)
}

func (w *workload) setField(ctx context.Context, c *contractLife, customID, value string) error {
	err := w.sys.oneflow(ctx, http.MethodPut, fmt.Sprintf("/_sandbox/contracts/%d/data_fields/%s", c.id, customID),
		map[string]string{"value": value}, nil)
	if err != nil {
		return fmt.Errorf("set %s: %w", customID, err)
	}
	return nil
}

func (w *workload) waitFetched(ctx context.Context, c *contractLife, number string) error {
	return w.waitSync(ctx, c, "fetch for employee "+number, func(r *contractsyncv1.GetContractSyncResponse) bool {
		return r.GetSync().GetEmployeeNumber() == number && slices.Contains(r.GetSync().GetCompletedFlows(), "fetch")
	})
}

// poll calls check until it reports done, backing off from 200 ms to 2 s,
// with at most cap(w.polls) checks of all contracts in flight.
func (w *workload) poll(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, w.wait)
	defer cancel()
	delay := 200 * time.Millisecond
	last := "never answered"
	for {
		select {
		case w.polls <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("%s: not done within %s (last: %s)", what, w.wait, last)
		}
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		done, state := check(cctx)
		ccancel()
		<-w.polls
		if done {
			return nil
		}
		last = state
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not done within %s (last: %s)", what, w.wait, last)
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (w *workload) waitSync(ctx context.Context, c *contractLife, what string, done func(*contractsyncv1.GetContractSyncResponse) bool) error {
	var failed error
	err := w.poll(ctx, what, func(ctx context.Context) (bool, string) {
		r, err := w.sys.sync.GetContractSync(w.sys.authed(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: c.id})
		if err != nil {
			return false, err.Error()
		}
		state := fmt.Sprintf("%v %q flows %v %s", r.GetSync().GetStatus(), r.GetSync().GetOneflowState(),
			r.GetSync().GetCompletedFlows(), r.GetSync().GetLastFailure())
		if r.GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_FAILED && !w.failuresExpected {
			failed = errors.New(state)
			return true, state
		}
		return done(r), state
	})
	if err == nil && failed != nil {
		return fmt.Errorf("%s: contract failed: %w", what, failed)
	}
	return err
}

func (w *workload) waitDocuments(ctx context.Context, c *contractLife, status documentarchivev1.DocumentStatus, n int) error {
	return w.poll(ctx, fmt.Sprintf("%d %s document(s)", n, status), func(ctx context.Context) (bool, string) {
		r, err := w.sys.archive.ListDocuments(w.sys.authed(ctx), &documentarchivev1.ListDocumentsRequest{ContractId: c.id})
		if err != nil {
			return false, err.Error()
		}
		got := 0
		for _, d := range r.GetDocuments() {
			if d.GetStatus() == status {
				got++
			}
		}
		return got >= n, fmt.Sprintf("%d %s document(s)", got, status)
	})
}

// sideEffects are the counts the check found, for the report.
type sideEffects struct {
	contracts, dataFieldPUTs, counterpartyPOSTs, colleaguePOSTs, participantDELETEs, renames int
	employeePUTs, periodPOSTs, periodPUTs, uploads                                           int
}

func (e sideEffects) String() string {
	return fmt.Sprintf("%d contracts: Oneflow data-field updates %d, counterparties added %d, colleagues added %d, participants removed %d, renames %d; "+
		"Flex HRM employee PUTs %d, period POSTs %d, period PUTs %d, document uploads %d",
		e.contracts, e.dataFieldPUTs, e.counterpartyPOSTs, e.colleaguePOSTs, e.participantDELETEs, e.renames,
		e.employeePUTs, e.periodPOSTs, e.periodPUTs, e.uploads)
}

var contractPath = regexp.MustCompile(`^/v1/contracts/(\d+)`)

// verify checks every contract that finished its life against what its
// events imply: each side effect exactly once, counted from the sandboxes'
// request logs and stored state, and the contract's final state.
func (w *workload) verify(ctx context.Context, t *testing.T) sideEffects {
	t.Helper()
	s := w.sys
	type oneflowCounts struct{ dataFields, counterparties, colleagues, deletes, renames int }
	oneflowBy := map[int64]*oneflowCounts{}
	for _, r := range s.oneflowRequests(ctx) {
		if r.Status < 200 || r.Status > 299 {
			continue
		}
		m := contractPath.FindStringSubmatch(r.Path)
		if m == nil {
			continue
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		oc := oneflowBy[id]
		if oc == nil {
			oc = &oneflowCounts{}
			oneflowBy[id] = oc
		}
		switch r.Route {
		case "PUT /v1/contracts/{id}/data_fields", "PUT /v1/contracts/{id}/data_fields/{field}":
			oc.dataFields++
		case "POST /v1/contracts/{id}/parties":
			oc.counterparties++
		case "POST /v1/contracts/{id}/parties/{party}/participants":
			oc.colleagues++
		case "DELETE /v1/contracts/{id}/parties/{party}/participants/{participant}":
			oc.deletes++
		case "PUT /v1/contracts/{id}":
			oc.renames++
		}
	}
	var total sideEffects
	employeePUTs := map[string]int{}
	for _, r := range s.flexRequests(ctx) {
		if r.Status < 200 || r.Status > 299 {
			continue
		}
		switch r.PathID {
		case "P3":
			employeePUTs[strings.TrimPrefix(r.Path, "/employees/")]++
			total.employeePUTs++
		case "P5":
			total.periodPOSTs++
		case "P6":
			total.periodPUTs++
		case "P10":
			total.uploads++
		}
	}
	flex := s.flexState(ctx)
	periods := map[string]int{}
	for _, p := range flex.EmploymentPeriods {
		periods[p.EmployeeID]++
	}
	docs := map[string][]string{}
	for _, d := range flex.Documents {
		docs[d.EmployeeID] = append(docs[d.EmployeeID], d.Title)
	}
	cities := map[string]string{}
	for _, e := range flex.Employees {
		if e.City != nil {
			cities[e.ID] = *e.City
		}
	}
	contracts := s.oneflowContracts(ctx)

	var wantPeriodPOSTs, wantUploads, unfinished int
	for _, c := range w.contracts {
		if c.err != nil || c.id == 0 {
			unfinished++
			continue
		}
		total.contracts++
		want := c.expect()
		wantPeriodPOSTs += want.periods
		wantUploads += want.pendingDocs + want.signedDocs
		oc := oneflowBy[c.id]
		if oc == nil {
			oc = &oneflowCounts{}
		}
		total.dataFieldPUTs += oc.dataFields
		total.counterpartyPOSTs += oc.counterparties
		total.colleaguePOSTs += oc.colleagues
		total.participantDELETEs += oc.deletes
		total.renames += oc.renames
		var problems []string
		check := func(what string, got, want int) {
			if got != want {
				problems = append(problems, fmt.Sprintf("%s %d times, want %d", what, got, want))
			}
		}
		check("data fields updated", oc.dataFields, want.dataFieldPUTs)
		check("counterparty added", oc.counterparties, want.counterpartyPOSTs)
		check("colleague added", oc.colleagues, want.colleaguePOSTs)
		check("participant removed", oc.deletes, want.participantDELETEs)
		check("contract renamed", oc.renames, want.renames)
		check("employee written", employeePUTs[c.emp.ID], want.employeePUTs)
		check("employment periods", periods[c.emp.ID], want.periods)
		titles := docs[c.emp.ID]
		check("Pending documents", countOf(titles, c.name()+" - Pending.pdf"), want.pendingDocs)
		check("Signed documents", countOf(titles, c.name()+" - Signed.pdf"), want.signedDocs)
		check("documents in all", len(titles), want.pendingDocs+want.signedDocs)
		if c.previous != nil {
			check("employee written for the replaced employee", employeePUTs[c.previous.ID], 0)
			check("documents for the replaced employee", len(docs[c.previous.ID]), 0)
		}

		oc2, ok := contracts[c.id]
		if !ok {
			problems = append(problems, "contract missing from the Oneflow sandbox")
		} else {
			if oc2.State != want.finalState {
				problems = append(problems, fmt.Sprintf("Oneflow state %q, want %q", oc2.State, want.finalState))
			}
			if oc2.Private.Name != c.name() {
				problems = append(problems, fmt.Sprintf("name %q, want %q", oc2.Private.Name, c.name()))
			}
			for field, value := range map[string]string{customIDNumber: c.emp.Number, customIDFirstName: c.emp.First,
				customIDSurname: c.emp.Last, customIDEmail: c.emp.Email, customIDCity: c.city, customIDStart: c.start} {
				if got := oc2.field(field); got != value {
					problems = append(problems, fmt.Sprintf("field %s = %q, want %q", field, got, value))
				}
			}
			var employeeSeats, previousSeats, managerSeats int
			for _, p := range oc2.Parties {
				for _, pp := range p.Participants {
					switch {
					case strings.EqualFold(pp.Email, c.emp.Email) && !p.MyParty:
						employeeSeats++
					case c.previous != nil && strings.EqualFold(pp.Email, c.previous.Email):
						previousSeats++
					case strings.EqualFold(pp.Email, seedManagerEmail) && p.MyParty:
						managerSeats++
					}
				}
			}
			check("employee as counterparty participant", employeeSeats, 1)
			check("replaced employee still a participant", previousSeats, 0)
			check("manager as colleague", managerSeats, 1)
		}
		if c.signed() && cities[c.emp.ID] != c.city {
			problems = append(problems, fmt.Sprintf("Flex HRM city %q, want %q", cities[c.emp.ID], c.city))
		}
		r, err := s.contractSync(ctx, c.id)
		switch {
		case err != nil:
			problems = append(problems, "sync state: "+err.Error())
		case r.GetSync().GetStatus() != contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC:
			problems = append(problems, fmt.Sprintf("sync status %v (%s)", r.GetSync().GetStatus(), r.GetSync().GetLastFailure()))
		case r.GetSync().GetOneflowState() != want.finalState:
			problems = append(problems, fmt.Sprintf("sync state says Oneflow state %q, want %q", r.GetSync().GetOneflowState(), want.finalState))
		}
		if len(problems) > 0 {
			t.Errorf("contract #%d (%s, id %d, employee %s): %s", c.i, c.life, c.id, c.emp.Number, strings.Join(problems, "; "))
		}
	}
	if unfinished > 0 {
		t.Logf("totals not compared: %d contracts did not finish their life", unfinished)
		return total
	}
	if total.periodPUTs != 0 {
		t.Errorf("Flex HRM periods updated %d times; every workload period is new, so each is one POST", total.periodPUTs)
	}
	if total.periodPOSTs != wantPeriodPOSTs {
		t.Errorf("Flex HRM period POSTs = %d, want %d (one per signed contract)", total.periodPOSTs, wantPeriodPOSTs)
	}
	if total.uploads != wantUploads {
		t.Errorf("Flex HRM document uploads = %d, want %d", total.uploads, wantUploads)
	}
	failures, err := s.failures(ctx)
	if err != nil {
		t.Errorf("ListFailures: %v", err)
	}
	for _, f := range failures {
		t.Errorf("contract %d listed as failed (%v): %s", f.GetContractId(), f.GetFlow(), f.GetReason())
	}
	return total
}

func countOf(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

// lifeMix describes the workload's stories for the report.
func (w *workload) lifeMix() string {
	count := map[life]int{}
	for _, c := range w.contracts {
		count[c.life]++
	}
	var parts []string
	for l := lifeSigned; l <= lifeNumberChanged; l++ {
		if count[l] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[l], l))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// joinErrs reports the contracts that did not finish, at most ten.
func joinErrs(errs []error) error {
	if len(errs) > 10 {
		errs = append(errs[:10:10], fmt.Errorf("… and %d more", len(errs)-10))
	}
	return errors.Join(errs...)
}

// explain logs the sync log and archive records of up to five contracts
// that did not finish, so a failed run says where each one stopped.
func (w *workload) explain(ctx context.Context, t *testing.T) {
	t.Helper()
	shown := 0
	for _, c := range w.contracts {
		if c.err == nil || c.id == 0 || shown == 5 {
			continue
		}
		shown++
		w.explainOne(ctx, t, c)
	}
}

// explainOne logs one contract's sync state, sync log and archive records.
func (w *workload) explainOne(ctx context.Context, t *testing.T, c *contractLife) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "contract #%d (%s, id %d) stopped: %v\n", c.i, c.life, c.id, c.err)
	if r, err := w.sys.contractSync(ctx, c.id); err == nil {
		fmt.Fprintf(&b, "  state: %v\n", r.GetSync())
		for _, e := range r.GetEntries() {
			fmt.Fprintf(&b, "  %s %s %-9s %-28s %v %s\n", e.GetTime().AsTime().Format("15:04:05.000"), e.GetService(),
				e.GetFlow(), e.GetStep(), e.GetOutcome(), e.GetReason())
		}
	}
	if r, err := w.sys.archive.ListDocuments(w.sys.authed(ctx), &documentarchivev1.ListDocumentsRequest{ContractId: c.id}); err == nil {
		for _, d := range r.GetDocuments() {
			fmt.Fprintf(&b, "  archived %v generation %d: %s\n", d.GetStatus(), d.GetGeneration(), d.GetTitle())
		}
	}
	t.Log(b.String())
}

// contractSync reads a contract's sync state and log, asking again (up to
// five times) while contract-sync answers Unavailable, as its message says
// to; the retries are counted in s.syncRetries for the report.
func (s *system) contractSync(ctx context.Context, id int64) (*contractsyncv1.GetContractSyncResponse, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var r *contractsyncv1.GetContractSyncResponse
		r, err = s.sync.GetContractSync(s.authed(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: id})
		if status.Code(err) != codes.Unavailable {
			return r, err
		}
		s.syncRetries.Add(1)
		time.Sleep(500 * time.Millisecond)
	}
	return nil, err
}
