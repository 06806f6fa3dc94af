package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"

	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
)

const (
	outcomeDone    = eventsv1.Outcome_OUTCOME_DONE
	outcomeSkipped = eventsv1.Outcome_OUTCOME_SKIPPED
	outcomeWarning = eventsv1.Outcome_OUTCOME_WARNING
)

// stateChange is a state mutation a step hands back; the flow applies all of
// them in one compare-and-set write.
type stateChange func(*domain.State)

// fetch fills a draft contract from the employee its number names. force
// (replay) runs it even when the number was fetched before.
func (w *Worker) fetch(ctx context.Context, contractID int64, eventType string, force bool) error {
	ctx, span, run := w.startFlow(ctx, contractID, domain.FlowFetch, eventType)
	defer span.End()

	c, err := w.Oneflow.GetContract(ctx, contractID)
	if err != nil {
		return err
	}
	st, err := w.States.Get(ctx, contractID)
	if err != nil {
		return err
	}
	tpl, ok, reason, err := w.flexTemplate(ctx, c)
	if err != nil {
		return err
	}
	if !ok {
		return w.ignore(ctx, run, c, reason)
	}
	number := strings.TrimSpace(c.DataFields[domain.FieldEmployeeNumber])
	if c.State != domain.StateDraft {
		if eventType == domain.EventDataFieldUpdate && !force {
			return nil // field changes after publish are the sign flow's business
		}
		return run.step(ctx, "check_state", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, "contract is " + c.State + ", not a draft; fields are fetched only into drafts", nil
		})
	}
	if !force && number == st.FetchedNumber && (number != "" || st.Status == domain.StatusWaiting) {
		// Unchanged number: our own writes' echo, or another field edited.
		return nil
	}
	if number == "" {
		if err := run.step(ctx, "read_employee_number", func(context.Context) (eventsv1.Outcome, string, error) {
			return outcomeSkipped, "waiting for employee number", nil
		}); err != nil {
			return err
		}
		return w.commit(ctx, contractID, func(s *domain.State) {
			s.FetchedNumber = ""
			s.Status = domain.StatusWaiting
			s.OneflowState = c.State
		})
	}

	var emp domain.Employee
	found := false
	err = run.step(ctx, "find_employee", func(ctx context.Context) (eventsv1.Outcome, string, error) {
		var err error
		emp, err = w.resolveEmployee(ctx, number, "")
		if isEmployeeLookupRefusal(err) {
			return outcomeWarning, domain.Reason(err) + "; contract left as it is", nil
		}
		if err != nil {
			return 0, "", err
		}
		found = true
		return outcomeDone, "found employee " + number + " in Flex HRM", nil
	})
	if err != nil {
		return err
	}
	if !found {
		// Not found or ambiguous: recorded for the HR admin above.
		return w.commit(ctx, contractID, func(s *domain.State) {
			s.FetchedNumber = number
			s.Status = domain.StatusWaiting
			s.OneflowState = c.State
		})
	}
	if emp.EmployeeNumber == "" {
		emp.EmployeeNumber = number
	}

	// Intents go to the state before the creates, so after a crash a
	// participant found on the contract can be told from one an admin added.
	if st.ParticipantIntent != number || !st.ManagerIntent {
		if err := w.commit(ctx, contractID, func(s *domain.State) {
			s.ParticipantIntent = number
			s.ManagerIntent = true
			s.Status = domain.StatusInProgress
		}); err != nil {
			return err
		}
		// The local copy keeps the intents as they were: only an intent left
		// by an earlier, interrupted run may adopt a participant found on the
		// contract.
	}

	numberChanged := st.Employee != nil && st.Employee.EmployeeNumber != number
	var (
		mu      sync.Mutex
		changes []stateChange
		errs    []error
		wg      sync.WaitGroup
	)
	runStep := func(fn func() ([]stateChange, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := fn()
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, ch...)
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	runStep(func() ([]stateChange, error) { return nil, w.fillFields(ctx, run, c, emp) })
	runStep(func() ([]stateChange, error) { return w.employeeParticipant(ctx, run, c, st, emp, number) })
	runStep(func() ([]stateChange, error) { return w.managerParticipant(ctx, run, c, st, emp, numberChanged) })
	runStep(func() ([]stateChange, error) { return w.renameContract(ctx, run, c, st, tpl, emp) })
	wg.Wait()

	for _, err := range errs {
		if errors.Is(err, ErrSimulatedCrash) {
			return err
		}
	}
	allDone := len(errs) == 0
	if err := w.commit(ctx, contractID, func(s *domain.State) {
		for _, ch := range changes {
			ch(s)
		}
		s.OneflowState = c.State
		if allDone {
			s.FetchedNumber = number
			s.Employee = &domain.EmployeeRef{EmployeeNumber: number, FlexEmployeeID: emp.FlexEmployeeID, FlexCompanyID: emp.FlexCompanyID}
			s.ParticipantIntent = ""
			s.ManagerIntent = false
			s.Status = domain.StatusInSync
		}
	}); err != nil {
		return err
	}
	return firstError(errs)
}

// firstError prefers a permanent error: retrying cannot fix the flow then.
func firstError(errs []error) error {
	for _, err := range errs {
		if !domain.Transient(err) {
			return err
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// commit applies a state change by compare-and-set.
func (w *Worker) commit(ctx context.Context, contractID int64, change stateChange) error {
	_, err := w.States.Update(ctx, contractID, func(s *domain.State) error {
		s.ContractID = contractID
		change(s)
		s.UpdatedTime = w.cfg.Now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

func (w *Worker) fillFields(ctx context.Context, run *flowRun, c Contract, emp domain.Employee) error {
	changes, warnings := domain.PlanFieldFill(c.DataFields, emp)
	for _, wn := range warnings {
		w.record(ctx, c.ID, run.flow, run.eventType, "fill_data_fields", outcomeWarning, wn.Reason)
	}
	return run.step(ctx, "fill_data_fields", func(ctx context.Context) (eventsv1.Outcome, string, error) {
		if len(changes) == 0 {
			return outcomeSkipped, "every mapped field already holds employee " + emp.EmployeeNumber + "'s values", nil
		}
		if err := w.Oneflow.UpdateDataFields(ctx, c.ID, changes); err != nil {
			return 0, "", err
		}
		if err := w.afterSideEffect(ctx, c.ID, "fill_data_fields"); err != nil {
			return 0, "", err
		}
		return outcomeDone, fmt.Sprintf("filled %d data fields from employee %s", len(changes), emp.EmployeeNumber), nil
	})
}

func findParticipant(c Contract, ref *domain.ParticipantRef) *Participant {
	if ref == nil {
		return nil
	}
	for _, p := range c.Parties {
		if p.ID != ref.PartyID {
			continue
		}
		for i := range p.Participants {
			if p.Participants[i].ID == ref.ParticipantID {
				return &p.Participants[i]
			}
		}
	}
	return nil
}

// matchesEmployee tells whether a participant is the employee: same email,
// else same mobile number.
func matchesEmployee(p Participant, emp domain.Employee) bool {
	if emp.EmailWork != "" && domain.EqualEmail(p.Email, emp.EmailWork) {
		return true
	}
	return emp.MobilePhonePrivate != "" && normalizePhone(p.Phone) == normalizePhone(emp.MobilePhonePrivate)
}

func normalizePhone(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= '0' && r <= '9') || r == '+' {
			return r
		}
		return -1
	}, s)
}

func (w *Worker) employeeParticipant(ctx context.Context, run *flowRun, c Contract, st domain.State, emp domain.Employee, number string) ([]stateChange, error) {
	var changes []stateChange
	if st.Participant != nil {
		existing := findParticipant(c, st.Participant)
		switch {
		case st.Participant.EmployeeNumber == number && existing != nil:
			return nil, run.step(ctx, "add_participant", func(context.Context) (eventsv1.Outcome, string, error) {
				return outcomeSkipped, "employee " + number + " was added as participant before", nil
			})
		case st.Participant.EmployeeNumber != number && existing != nil:
			old := *st.Participant
			err := run.step(ctx, "remove_previous_participant", func(ctx context.Context) (eventsv1.Outcome, string, error) {
				if err := w.Oneflow.RemoveParticipant(ctx, c.ID, old); err != nil {
					var ue *domain.UpstreamError
					if !errors.As(err, &ue) || ue.Kind != domain.KindNotFound {
						return 0, "", err
					}
				}
				if err := w.afterSideEffect(ctx, c.ID, "remove_previous_participant"); err != nil {
					return 0, "", err
				}
				return outcomeDone, "removed the participant flexflow added for employee " + old.EmployeeNumber, nil
			})
			if err != nil {
				return nil, err
			}
			changes = append(changes, func(s *domain.State) { s.Participant = nil })
			c = withoutParticipant(c, old)
		case existing == nil && st.Participant.EmployeeNumber == number:
			// An admin removed the participant flexflow added: respect that.
			return nil, run.step(ctx, "add_participant", func(context.Context) (eventsv1.Outcome, string, error) {
				return outcomeSkipped, "the participant flexflow added was removed from the contract; not added again", nil
			})
		default:
			changes = append(changes, func(s *domain.State) { s.Participant = nil })
		}
	}
	var added *domain.ParticipantRef
	err := run.step(ctx, "add_participant", func(ctx context.Context) (eventsv1.Outcome, string, error) {
		d := domain.DecideEmployeeParticipant(c.DeliveryChannel, c.TwoStepMethod, emp.EmailWork != "", emp.MobilePhonePrivate != "")
		if !d.Add {
			return outcomeSkipped, d.Reason, nil
		}
		for _, p := range c.Parties {
			if p.MyParty {
				continue
			}
			for _, pp := range p.Participants {
				if !matchesEmployee(pp, emp) {
					continue
				}
				if st.ParticipantIntent == number {
					added = &domain.ParticipantRef{PartyID: p.ID, ParticipantID: pp.ID, EmployeeNumber: number}
					return outcomeDone, "employee " + number + " found on the contract after an interrupted add; recorded as added by flexflow", nil
				}
				return outcomeSkipped, "employee " + number + " is already a participant of the contract", nil
			}
		}
		ref, err := w.Oneflow.AddCounterparty(ctx, c.ID, NewParticipant{
			Name:            domain.ContractName(emp.FirstName, emp.Surname, emp.FullName, ""),
			Email:           emp.EmailWork,
			Phone:           emp.MobilePhonePrivate,
			Signatory:       true,
			DeliveryChannel: d.DeliveryChannel,
			TwoStepMethod:   d.TwoStepMethod,
		})
		if refused(err) {
			// The employee's data does not suit Oneflow (say, a phone number
			// it will not take): the HR admin fixes it, retrying cannot.
			return outcomeWarning, domain.Reason(err) + "; employee " + number + " not added as participant", nil
		}
		if err != nil {
			return 0, "", err
		}
		ref.EmployeeNumber = number
		added = &ref
		if err := w.afterSideEffect(ctx, c.ID, "add_participant"); err != nil {
			return 0, "", err
		}
		return outcomeDone, fmt.Sprintf("added employee %s as signing counterparty (delivery channel %s)", number, d.DeliveryChannel), nil
	})
	if added != nil {
		ref := *added
		changes = append(changes, func(s *domain.State) { s.Participant = &ref })
	}
	return changes, err
}

func withoutParticipant(c Contract, ref domain.ParticipantRef) Contract {
	out := c
	out.Parties = make([]Party, 0, len(c.Parties))
	for _, p := range c.Parties {
		q := p
		q.Participants = nil
		for _, pp := range p.Participants {
			if p.ID == ref.PartyID && pp.ID == ref.ParticipantID {
				continue
			}
			q.Participants = append(q.Participants, pp)
		}
		out.Parties = append(out.Parties, q)
	}
	return out
}

func contractEmails(c Contract) []string {
	var out []string
	for _, p := range c.Parties {
		for _, pp := range p.Participants {
			if pp.Email != "" {
				out = append(out, pp.Email)
			}
		}
	}
	return out
}

func (w *Worker) managerParticipant(ctx context.Context, run *flowRun, c Contract, st domain.State, emp domain.Employee, numberChanged bool) ([]stateChange, error) {
	var changes []stateChange
	if existing := findParticipant(c, st.Manager); existing != nil {
		if !numberChanged || domain.EqualEmail(existing.Email, emp.ImmediateManagerEmail) {
			return nil, run.step(ctx, "add_manager", func(context.Context) (eventsv1.Outcome, string, error) {
				return outcomeSkipped, "immediate manager was added before", nil
			})
		}
		old := *st.Manager
		err := run.step(ctx, "remove_previous_manager", func(ctx context.Context) (eventsv1.Outcome, string, error) {
			if err := w.Oneflow.RemoveParticipant(ctx, c.ID, old); err != nil {
				var ue *domain.UpstreamError
				if !errors.As(err, &ue) || ue.Kind != domain.KindNotFound {
					return 0, "", err
				}
			}
			if err := w.afterSideEffect(ctx, c.ID, "remove_previous_manager"); err != nil {
				return 0, "", err
			}
			return outcomeDone, "removed the manager participant flexflow added for the previous employee", nil
		})
		if err != nil {
			return nil, err
		}
		changes = append(changes, func(s *domain.State) { s.Manager = nil })
		c = withoutParticipant(c, old)
	} else if st.Manager != nil {
		changes = append(changes, func(s *domain.State) { s.Manager = nil })
	}
	var added *domain.ParticipantRef
	err := run.step(ctx, "add_manager", func(ctx context.Context) (eventsv1.Outcome, string, error) {
		d := domain.DecideManagerLookup(emp, contractEmails(c))
		if !d.Lookup {
			if d.Outcome == "skipped" && st.ManagerIntent && st.Manager == nil {
				for _, p := range c.Parties {
					for _, pp := range p.Participants {
						if p.MyParty && domain.EqualEmail(pp.Email, emp.ImmediateManagerEmail) {
							added = &domain.ParticipantRef{PartyID: p.ID, ParticipantID: pp.ID}
							return outcomeDone, "immediate manager found on the contract after an interrupted add; recorded as added by flexflow", nil
						}
					}
				}
			}
			if d.Outcome == "warning" {
				return outcomeWarning, d.Reason, nil
			}
			return outcomeSkipped, d.Reason, nil
		}
		user, found, err := w.Oneflow.FindActiveUserByEmail(ctx, emp.ImmediateManagerEmail)
		if err != nil {
			return 0, "", err
		}
		if !found {
			return outcomeWarning, "no active Oneflow user has the immediate manager's work email; manager not added", nil
		}
		var owner *Party
		for i := range c.Parties {
			if c.Parties[i].MyParty {
				owner = &c.Parties[i]
				break
			}
		}
		if owner == nil {
			return outcomeWarning, "contract has no owner-side party; manager not added", nil
		}
		// A non-signing colleague is reached by the work email that made
		// them a manager candidate; without an explicit channel Oneflow
		// applies the contract's preferred one, and an SMS template would
		// refuse the manager for lack of a phone number.
		// The owner side takes the user's own spelling of the email: Oneflow
		// matches owner-side participants to users by it.
		email := user.Email
		if email == "" {
			email = emp.ImmediateManagerEmail
		}
		ref, err := w.Oneflow.AddParticipant(ctx, c.ID, owner.ID, NewParticipant{
			Name:            emp.ImmediateManagerName,
			Email:           email,
			Signatory:       false,
			DeliveryChannel: "email",
			TwoStepMethod:   "none",
		})
		if refused(err) {
			// E.g. the owner side is full (29 participants): worth a warning,
			// not a failed contract.
			return outcomeWarning, domain.Reason(err) + "; manager not added", nil
		}
		if err != nil {
			return 0, "", err
		}
		added = &ref
		if err := w.afterSideEffect(ctx, c.ID, "add_manager"); err != nil {
			return 0, "", err
		}
		return outcomeDone, "added the immediate manager to the owner side as non-signing colleague", nil
	})
	if added != nil {
		ref := *added
		changes = append(changes, func(s *domain.State) { s.Manager = &ref })
	}
	return changes, err
}

func (w *Worker) renameContract(ctx context.Context, run *flowRun, c Contract, st domain.State, tpl Template, emp domain.Employee) ([]stateChange, error) {
	wanted := domain.ContractName(emp.FirstName, emp.Surname, emp.FullName, tpl.Name)
	var set string
	err := run.step(ctx, "set_name", func(ctx context.Context) (eventsv1.Outcome, string, error) {
		d := domain.DecideRename(c.Name, tpl.Name, st.NameSet, wanted)
		if d.AlreadySet {
			set = wanted
			return outcomeSkipped, d.Reason, nil
		}
		if !d.Rename {
			return outcomeSkipped, d.Reason, nil
		}
		if err := w.Oneflow.RenameContract(ctx, c.ID, wanted); err != nil {
			return 0, "", err
		}
		set = wanted
		if err := w.afterSideEffect(ctx, c.ID, "set_name"); err != nil {
			return 0, "", err
		}
		return outcomeDone, "named the contract after employee " + emp.EmployeeNumber + " and the template", nil
	})
	if set == "" {
		return nil, err
	}
	return []stateChange{func(s *domain.State) { s.NameSet = set }}, err
}

// refused reports an upstream refusal of a request's content (validation or
// conflict), as opposed to credentials or an outage.
func refused(err error) bool {
	var ue *domain.UpstreamError
	return errors.As(err, &ue) && ue.Kind == domain.KindInvalid
}
