// Package oneflowapi adapts libs/oneflow's client to the app.Oneflow port:
// it converts the wire models to the app's types and translates Oneflow's
// errors once into *domain.UpstreamError with reasons free of personal data.
package oneflowapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/services/contract-sync/internal/app"
	"github.com/flexflow/flexflow/services/contract-sync/internal/domain"
)

// API is the part of *oneflow.Client the adapter uses.
type API interface {
	GetContract(ctx context.Context, contractID int64) (oneflow.Contract, error)
	GetTemplate(ctx context.Context, templateID int64) (oneflow.Template, error)
	RenameContract(ctx context.Context, contractID int64, name string) error
	UpdateDataFields(ctx context.Context, contractID int64, updates []oneflow.DataFieldUpdate) error
	AddCounterparty(ctx context.Context, contractID int64, participant oneflow.NewParticipant) (oneflow.Party, error)
	AddParticipant(ctx context.Context, contractID, partyID int64, participant oneflow.NewParticipant) (oneflow.Participant, error)
	RemoveParticipant(ctx context.Context, contractID, partyID, participantID int64) error
	FindActiveUserByEmail(ctx context.Context, email string) (oneflow.User, bool, error)
}

// Adapter implements app.Oneflow.
type Adapter struct {
	api API
}

// New wraps a client.
func New(api API) (*Adapter, error) {
	if api == nil {
		return nil, errors.New("oneflowapi.New: nil client")
	}
	return &Adapter{api: api}, nil
}

var _ app.Oneflow = (*Adapter)(nil)

// translate maps a client error to a domain error.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	ue := &domain.UpstreamError{System: domain.SystemOneflow, Op: op, Err: err}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ue.Kind = domain.KindTransient
		ue.Reason = "Oneflow did not answer " + op + " in time"
	case errors.Is(err, oneflow.ErrUnauthorized):
		ue.Kind = domain.KindCredentials
		ue.Reason = domain.CredentialsReason(domain.SystemOneflow)
	case errors.Is(err, oneflow.ErrForbidden):
		ue.Kind = domain.KindCredentials
		ue.Reason = "Oneflow does not allow flexflow's user to " + op + " (check ONEFLOW_USER_EMAIL's permissions)"
	case errors.Is(err, oneflow.ErrNotFound):
		ue.Kind = domain.KindNotFound
		ue.Reason = "Oneflow found nothing for " + op
	case errors.Is(err, oneflow.ErrValidation):
		ue.Kind = domain.KindInvalid
		ue.Reason = "Oneflow refused " + op + " as invalid"
		var apiErr *oneflow.APIError
		if errors.As(err, &apiErr) && len(apiErr.ProblemParameters()) > 0 {
			ue.Reason += fmt.Sprintf(" (problems with %v)", apiErr.ProblemParameters())
		}
	case errors.Is(err, oneflow.ErrConflict):
		ue.Kind = domain.KindInvalid
		ue.Reason = "Oneflow refused " + op + ": it does not fit the contract's current state"
	case errors.Is(err, oneflow.ErrRateLimited):
		ue.Kind, ue.RateLimited = domain.KindTransient, true
		ue.Reason = "Oneflow is rate limiting flexflow (" + op + ")"
	default:
		// 5xx, network, timeouts, undecodable answers: worth retrying.
		ue.Kind = domain.KindTransient
		ue.Reason = "Oneflow is unavailable (" + op + ")"
	}
	return ue
}

// GetContract implements app.Oneflow.
func (a *Adapter) GetContract(ctx context.Context, contractID int64) (app.Contract, error) {
	c, err := a.api.GetContract(ctx, contractID)
	if err != nil {
		return app.Contract{}, translate("read contract", err)
	}
	return convertContract(c), nil
}

func convertContract(c oneflow.Contract) app.Contract {
	out := app.Contract{
		ID: c.ID, State: c.State, Name: c.Private.Name,
		TemplateID: c.PrivateOwnerside.TemplateID, TemplateTypeID: c.PrivateOwnerside.TemplateTypeID,
		DataFields:      map[string]string{},
		DeliveryChannel: oneflow.PreferredDeliveryChannel(c),
		TwoStepMethod:   oneflow.PreferredTwoStepMethod(c),
	}
	for _, f := range c.DataFields {
		if f.PrivateOwnerside.CustomID != "" {
			out.DataFields[f.PrivateOwnerside.CustomID] = f.Value
		}
	}
	for _, p := range c.Parties {
		out.Parties = append(out.Parties, convertParty(p))
	}
	return out
}

func convertParty(p oneflow.Party) app.Party {
	party := app.Party{ID: p.ID, Type: p.Type, MyParty: p.MyParty}
	for _, pp := range p.Participants {
		party.Participants = append(party.Participants, app.Participant{
			ID: pp.ID, Name: pp.Name, Email: pp.Email, Phone: pp.PhoneNumber, Signatory: pp.Signatory,
		})
	}
	return party
}

// GetTemplate implements app.Oneflow.
func (a *Adapter) GetTemplate(ctx context.Context, templateID int64) (app.Template, error) {
	t, err := a.api.GetTemplate(ctx, templateID)
	if err != nil {
		return app.Template{}, translate("read template", err)
	}
	return app.Template{ID: t.ID, Name: t.Name, TypeID: t.TemplateType.ID, TypeName: t.TemplateType.Name}, nil
}

// UpdateDataFields implements app.Oneflow: one batch call.
func (a *Adapter) UpdateDataFields(ctx context.Context, contractID int64, changes []domain.FieldChange) error {
	updates := make([]oneflow.DataFieldUpdate, 0, len(changes))
	for _, c := range changes {
		updates = append(updates, oneflow.DataFieldUpdate{CustomID: c.CustomID, Value: c.Value})
	}
	return translate("update data fields", a.api.UpdateDataFields(ctx, contractID, updates))
}

// RenameContract implements app.Oneflow.
func (a *Adapter) RenameContract(ctx context.Context, contractID int64, name string) error {
	return translate("rename contract", a.api.RenameContract(ctx, contractID, name))
}

func newParticipant(p app.NewParticipant) oneflow.NewParticipant {
	return oneflow.NewParticipant{
		Name: p.Name, Email: p.Email, PhoneNumber: p.Phone, Signatory: p.Signatory,
		DeliveryChannel: p.DeliveryChannel, TwoStepAuthenticationMethod: p.TwoStepMethod,
	}
}

// AddCounterparty implements app.Oneflow.
func (a *Adapter) AddCounterparty(ctx context.Context, contractID int64, p app.NewParticipant) (domain.ParticipantRef, error) {
	party, err := a.api.AddCounterparty(ctx, contractID, newParticipant(p))
	if err != nil {
		return domain.ParticipantRef{}, translate("add counterparty", err)
	}
	ref := domain.ParticipantRef{PartyID: party.ID}
	for _, pp := range party.Participants {
		ref.ParticipantID = pp.ID
		if (p.Email != "" && domain.EqualEmail(pp.Email, p.Email)) || pp.Name == p.Name {
			break
		}
	}
	return ref, nil
}

// AddParticipant implements app.Oneflow.
func (a *Adapter) AddParticipant(ctx context.Context, contractID, partyID int64, p app.NewParticipant) (domain.ParticipantRef, error) {
	pp, err := a.api.AddParticipant(ctx, contractID, partyID, newParticipant(p))
	if err != nil {
		return domain.ParticipantRef{}, translate("add participant", err)
	}
	return domain.ParticipantRef{PartyID: partyID, ParticipantID: pp.ID}, nil
}

// RemoveParticipant implements app.Oneflow.
func (a *Adapter) RemoveParticipant(ctx context.Context, contractID int64, ref domain.ParticipantRef) error {
	return translate("remove participant", a.api.RemoveParticipant(ctx, contractID, ref.PartyID, ref.ParticipantID))
}

// FindActiveUserByEmail implements app.Oneflow.
func (a *Adapter) FindActiveUserByEmail(ctx context.Context, email string) (app.User, bool, error) {
	u, found, err := a.api.FindActiveUserByEmail(ctx, email)
	if err != nil {
		return app.User{}, false, translate("list users", err)
	}
	return app.User{ID: u.ID, Email: u.Email}, found, nil
}
