package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// Document statuses in event message ids and archive requests.
const (
	statusPending = "pending"
	statusSigned  = "signed"
)

func published(state string) bool {
	switch state {
	case domain.StatePending, domain.StateOverdue, domain.StateSigned:
		return true
	}
	return false
}

// employeeFor returns the employee a published or signed contract belongs
// to: the one fetched into it when the number still matches, else a fresh
// lookup.
func (w *Worker) employeeFor(ctx context.Context, c Contract, st domain.State) (domain.EmployeeRef, error) {
	number := strings.TrimSpace(c.DataFields[domain.FieldEmployeeNumber])
	if number == "" {
		return domain.EmployeeRef{}, &domain.UpstreamError{System: "contract", Kind: domain.KindInvalid, Op: "read employee number",
			Reason: "contract has no employee number; nothing can be written to Flex HRM"}
	}
	if st.Employee != nil && st.Employee.EmployeeNumber == number && st.Employee.FlexEmployeeID != "" {
		return *st.Employee, nil
	}
	emp, err := w.resolveEmployee(ctx, number, "")
	if err != nil {
		return domain.EmployeeRef{}, err
	}
	return domain.EmployeeRef{EmployeeNumber: number, FlexEmployeeID: emp.FlexEmployeeID, FlexCompanyID: emp.FlexCompanyID}, nil
}

// publish emits ContractPublished once per generation so document-archive
// archives the Pending PDF. Nothing is written to Flex HRM here.
func (w *Worker) publish(ctx context.Context, contractID int64, ev domain.PendingEvent, force bool) error {
	ctx, span, run := w.startFlow(ctx, contractID, domain.FlowPublish, ev.Type)
	defer span.End()
	c, err := w.Oneflow.GetContract(ctx, contractID)
	if err != nil {
		return err
	}
	st, err := w.States.Get(ctx, contractID)
	if err != nil {
		return err
	}
	if _, ok, reason, err := w.flexTemplate(ctx, c); err != nil {
		return err
	} else if !ok {
		return w.ignore(ctx, run, c, reason)
	}
	if !published(c.State) {
		return run.step(ctx, "check_state", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, "contract is " + c.State + ", not published; nothing to archive", nil
		})
	}
	key := domain.StepKey(domain.FlowPublish, st.Generation, "")
	if st.IsDone(key) {
		if force {
			return w.archiveAgain(ctx, run, c, st, statusPending)
		}
		return run.step(ctx, "request_pending_archive", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, fmt.Sprintf("Pending PDF was requested for generation %d before", st.Generation), nil
		})
	}
	ref, err := w.employeeFor(ctx, c, st)
	if err != nil {
		return err
	}
	err = run.step(ctx, "request_pending_archive", func(ctx context.Context) (eventsv1.Outcome, string, error) {
		msgID := domain.EventMsgID(contractID, statusPending, st.Generation)
		if err := w.Events.PublishContractPublished(ctx, msgID, &eventsv1.ContractPublished{
			ContractId: contractID, Generation: st.Generation, CallbackId: ev.CallbackID,
			EmployeeNumber: ref.EmployeeNumber, FlexEmployeeId: ref.FlexEmployeeID, FlexCompanyId: ref.FlexCompanyID,
			OccurredTime: timestamppb.New(w.cfg.Now()),
		}); err != nil {
			return 0, "", err
		}
		if err := w.afterSideEffect(ctx, contractID, "request_pending_archive"); err != nil {
			return 0, "", err
		}
		return outcomeDone, fmt.Sprintf("asked document-archive to archive the Pending PDF (generation %d)", st.Generation), nil
	})
	if err != nil {
		return err
	}
	return w.commit(ctx, contractID, func(s *domain.State) {
		s.MarkDone(domain.StepKey(domain.FlowPublish, st.Generation, ""))
		s.OneflowState = c.State
		if s.Employee == nil {
			s.Employee = &ref
		}
		if s.Status != domain.StatusFailed {
			s.Status = domain.StatusInSync
		}
	})
}

// sign writes the signed contract's values back to Flex HRM through
// employee-directory and emits ContractSigned.
func (w *Worker) sign(ctx context.Context, contractID int64, ev domain.PendingEvent, force bool) error {
	ctx, span, run := w.startFlow(ctx, contractID, domain.FlowSign, ev.Type)
	defer span.End()
	c, err := w.Oneflow.GetContract(ctx, contractID)
	if err != nil {
		return err
	}
	st, err := w.States.Get(ctx, contractID)
	if err != nil {
		return err
	}
	if _, ok, reason, err := w.flexTemplate(ctx, c); err != nil {
		return err
	} else if !ok {
		return w.ignore(ctx, run, c, reason)
	}
	if c.State != domain.StateSigned {
		return run.step(ctx, "check_state", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, "contract is " + c.State + ", not signed; nothing written to Flex HRM", nil
		})
	}
	gen := st.Generation
	if st.IsDone(domain.StepKey(domain.FlowSign, gen, "")) {
		if force {
			return w.archiveAgain(ctx, run, c, st, statusSigned)
		}
		return run.step(ctx, "write_back", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, fmt.Sprintf("signed contract was written back for generation %d before", gen), nil
		})
	}
	ref, err := w.employeeFor(ctx, c, st)
	if err != nil {
		return err
	}
	number, company := ref.EmployeeNumber, ref.FlexCompanyID

	var (
		mu      sync.Mutex
		errs    []error
		changes []stateChange
		wg      sync.WaitGroup
	)
	collect := func(ch stateChange, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		if ch != nil {
			changes = append(changes, ch)
		}
	}
	employeeKey := domain.StepKey(domain.FlowSign, gen, "employee")
	if !st.IsDone(employeeKey) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := run.step(ctx, "write_employee", func(ctx context.Context) (eventsv1.Outcome, string, error) {
				current, err := w.resolveEmployee(ctx, number, company)
				if err != nil {
					return 0, "", err
				}
				mask, values := domain.PlanEmployeeWriteBack(c.DataFields, current)
				if len(mask) == 0 {
					return outcomeSkipped, "Flex HRM already holds the contract's employee values; nothing written", nil
				}
				changed, err := w.Directory.UpdateEmployee(ctx, number, current.FlexCompanyID, mask, values)
				if err != nil {
					return 0, "", err
				}
				if err := w.afterSideEffect(ctx, contractID, "write_employee"); err != nil {
					return 0, "", err
				}
				if len(changed) == 0 {
					return outcomeSkipped, "Flex HRM already holds the contract's employee values; nothing written", nil
				}
				return outcomeDone, fmt.Sprintf("wrote %s to employee %s", strings.Join(changed, ", "), number), nil
			})
			collect(func(s *domain.State) { s.MarkDone(employeeKey) }, err)
		}()
	}
	periodKey := domain.StepKey(domain.FlowSign, gen, "period")
	if !st.IsDone(periodKey) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := run.step(ctx, "write_employment_period", func(ctx context.Context) (eventsv1.Outcome, string, error) {
				plan, ok, reason := domain.PlanEmploymentPeriod(c.DataFields)
				if !ok {
					return outcomeWarning, reason, nil
				}
				res, err := w.Directory.UpsertEmploymentPeriod(ctx, number, company, plan)
				if err != nil {
					return 0, "", err
				}
				if err := w.afterSideEffect(ctx, contractID, "write_employment_period"); err != nil {
					return 0, "", err
				}
				var warn string
				if len(res.Warnings) > 0 {
					warn = "; " + strings.Join(res.Warnings, "; ")
				}
				switch res.Outcome {
				case PeriodCreated:
					return outcomeIf(warn), "created the employment period of employee " + number + warn, nil
				case PeriodUpdated:
					return outcomeIf(warn), "updated the employment period of employee " + number + " starting on the contract's start date" + warn, nil
				case PeriodUnchanged:
					return outcomeSkipped, "the employment period already holds the contract's values" + warn, nil
				case PeriodOverlapSkipped:
					return outcomeWarning, "Flex HRM refused the employment period because it overlaps another period of employee " + number + "; period not written", nil
				}
				return outcomeWarning, "employee-directory reported no outcome for the employment period", nil
			})
			collect(func(s *domain.State) { s.MarkDone(periodKey) }, err)
		}()
	}
	wg.Wait()
	if err := firstCrash(errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		if err := w.commit(ctx, contractID, func(s *domain.State) {
			for _, ch := range changes {
				ch(s)
			}
		}); err != nil {
			return err
		}
		return firstError(errs)
	}
	eventKey := domain.StepKey(domain.FlowSign, gen, "event")
	if !st.IsDone(eventKey) {
		err := run.step(ctx, "request_signed_archive", func(ctx context.Context) (eventsv1.Outcome, string, error) {
			if err := w.Events.PublishContractSigned(ctx, domain.EventMsgID(contractID, statusSigned, gen), &eventsv1.ContractSigned{
				ContractId: contractID, Generation: gen, CallbackId: ev.CallbackID,
				EmployeeNumber: number, FlexEmployeeId: ref.FlexEmployeeID, FlexCompanyId: ref.FlexCompanyID,
				OccurredTime: timestamppb.New(w.cfg.Now()),
			}); err != nil {
				return 0, "", err
			}
			if err := w.afterSideEffect(ctx, contractID, "request_signed_archive"); err != nil {
				return 0, "", err
			}
			return outcomeDone, fmt.Sprintf("asked document-archive to archive the Signed PDF (generation %d)", gen), nil
		})
		if err != nil {
			if cerr := w.commit(ctx, contractID, func(s *domain.State) {
				for _, ch := range changes {
					ch(s)
				}
			}); cerr != nil {
				return cerr
			}
			return err
		}
	}
	return w.commit(ctx, contractID, func(s *domain.State) {
		for _, ch := range changes {
			ch(s)
		}
		s.MarkDone(eventKey)
		s.MarkDone(domain.StepKey(domain.FlowSign, gen, ""))
		s.OneflowState = c.State
		if s.Employee == nil {
			s.Employee = &ref
		}
		s.Status = domain.StatusInSync
	})
}

func outcomeIf(warn string) eventsv1.Outcome {
	if warn != "" {
		return outcomeWarning
	}
	return outcomeDone
}

func firstCrash(errs []error) error {
	for _, err := range errs {
		if errorsIsCrash(err) {
			return err
		}
	}
	return nil
}

// lifecycle records decline, delete and signature resets; a reset starts a
// new generation so the next publish may archive a new Pending version.
func (w *Worker) lifecycle(ctx context.Context, contractID int64, ev domain.PendingEvent) error {
	ctx, span, run := w.startFlow(ctx, contractID, domain.FlowLifecycle, ev.Type)
	defer span.End()
	switch ev.Type {
	case domain.EventContractSignatureReset:
		var gen int32
		applied := false
		if _, err := w.States.Update(ctx, contractID, func(s *domain.State) error {
			s.ContractID = contractID
			applied = false
			if s.SeenEvent(ev.EventID) {
				gen = s.Generation
				return nil
			}
			s.Generation++
			s.RememberEvent(ev.EventID)
			s.OneflowState = domain.StatePending
			s.UpdatedTime = w.cfg.Now().UTC()
			gen, applied = s.Generation, true
			return nil
		}); err != nil {
			return fmt.Errorf("write state: %w", err)
		}
		if applied {
			if err := run.step(ctx, "signature_reset", func(context.Context) (eventsv1.Outcome, string, error) {
				return outcomeDone, fmt.Sprintf("signatures were reset; the contract is pending again as generation %d", gen), nil
			}); err != nil {
				return err
			}
		}
		// Back to pending with changed content: the new generation's Pending
		// PDF is archived as a publish would. The publish flow's own guard
		// makes this idempotent, also after a crash right after the reset.
		return w.publish(ctx, contractID, ev, false)
	case domain.EventContractDecline, domain.EventContractDelete:
		state, step := domain.StateDeclined, "declined"
		if ev.Type == domain.EventContractDelete {
			state, step = "deleted", "deleted"
		}
		if err := run.step(ctx, step, func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeDone, "contract " + step + "; nothing written to Flex HRM", nil
		}); err != nil {
			return err
		}
		return w.commit(ctx, contractID, func(s *domain.State) { s.OneflowState = state })
	}
	return nil
}

// replay re-runs the flows the contract's current state calls for. Side
// effects already done stay guarded by the state; documents are asked of
// document-archive directly, which archives only what is missing.
func (w *Worker) replay(ctx context.Context, contractID int64) error {
	ctx, span, run := w.startFlow(ctx, contractID, domain.FlowReplay, "")
	defer span.End()
	c, err := w.Oneflow.GetContract(ctx, contractID)
	if err != nil {
		return err
	}
	if err := run.step(ctx, "replay_started", func(context.Context) (eventsv1.Outcome, string, error) {
		return outcomeDone, "operator replay for contract state " + c.State, nil
	}); err != nil {
		return err
	}
	for _, flow := range domain.FlowsForState(c.State) {
		var err error
		switch flow {
		case domain.FlowFetch:
			err = w.fetch(ctx, contractID, "", true)
		case domain.FlowPublish:
			err = w.publish(ctx, contractID, domain.PendingEvent{Replay: true}, true)
		case domain.FlowSign:
			err = w.sign(ctx, contractID, domain.PendingEvent{Replay: true}, true)
		}
		if err != nil {
			return &flowError{flow: flow, err: err}
		}
	}
	if len(domain.FlowsForState(c.State)) == 0 {
		return run.step(ctx, "replay_flows", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, "contract is " + c.State + "; no flow to run", nil
		})
	}
	return nil
}

// archiveAgain makes sure the document of a flow done before exists: it asks
// document-archive directly (which uploads only what is missing or failed),
// or re-emits the event when no archive client is configured (deduplicated
// by Nats-Msg-Id inside the stream's window, and by document-archive's own
// records after it).
func (w *Worker) archiveAgain(ctx context.Context, run *flowRun, c Contract, st domain.State, status string) error {
	step := "archive_" + status
	return run.step(ctx, step, func(ctx context.Context) (eventsv1.Outcome, string, error) {
		if w.Archive != nil {
			uploaded, err := w.Archive.ArchiveContractDocument(ctx, c.ID, status, st.Generation)
			if err != nil {
				return 0, "", err
			}
			if uploaded {
				return outcomeDone, fmt.Sprintf("document-archive archived the %s PDF (generation %d) now", status, st.Generation), nil
			}
			return outcomeSkipped, fmt.Sprintf("%s PDF (generation %d) was archived before", status, st.Generation), nil
		}
		ref, err := w.employeeFor(ctx, c, st)
		if err != nil {
			return 0, "", err
		}
		msgID := domain.EventMsgID(c.ID, status, st.Generation)
		now := timestamppb.New(w.cfg.Now())
		if status == statusPending {
			err = w.Events.PublishContractPublished(ctx, msgID, &eventsv1.ContractPublished{ContractId: c.ID, Generation: st.Generation,
				EmployeeNumber: ref.EmployeeNumber, FlexEmployeeId: ref.FlexEmployeeID, FlexCompanyId: ref.FlexCompanyID, OccurredTime: now})
		} else {
			err = w.Events.PublishContractSigned(ctx, msgID, &eventsv1.ContractSigned{ContractId: c.ID, Generation: st.Generation,
				EmployeeNumber: ref.EmployeeNumber, FlexEmployeeId: ref.FlexEmployeeID, FlexCompanyId: ref.FlexCompanyID, OccurredTime: now})
		}
		if err != nil {
			return 0, "", err
		}
		return outcomeDone, fmt.Sprintf("re-emitted the %s event (generation %d) for document-archive", status, st.Generation), nil
	})
}
