package oneflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Ping proves the token and user email: nil on 200, ErrUnauthorized on 401.
func (c *Client) Ping(ctx context.Context) error {
	cl, err := newCall(http.MethodGet, "/ping", "/ping", nil, nil)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, cl, nil)
}

// GetContract reads a contract with its data fields, parties and options.
func (c *Client) GetContract(ctx context.Context, contractID int64) (Contract, error) {
	cl, err := newCall(http.MethodGet, "/contracts/{id}", fmt.Sprintf("/contracts/%d", contractID), nil, nil)
	if err != nil {
		return Contract{}, err
	}
	var contract Contract
	if err := c.doJSON(ctx, cl, &contract); err != nil {
		return Contract{}, err
	}
	return contract, nil
}

// GetTemplate reads a template and its template type.
func (c *Client) GetTemplate(ctx context.Context, templateID int64) (Template, error) {
	cl, err := newCall(http.MethodGet, "/templates/{id}", fmt.Sprintf("/templates/%d", templateID), nil, nil)
	if err != nil {
		return Template{}, err
	}
	var template Template
	if err := c.doJSON(ctx, cl, &template); err != nil {
		return Template{}, err
	}
	return template, nil
}

// RenameContract sets the contract's name (allowed while draft, pending or
// signed).
func (c *Client) RenameContract(ctx context.Context, contractID int64, name string) error {
	body := map[string]any{"_private": ContractPrivate{Name: name}}
	cl, err := newCall(http.MethodPut, "/contracts/{id}", fmt.Sprintf("/contracts/%d", contractID), nil, body)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, cl, nil)
}

// UpdateDataFields writes several data fields of a contract in one call,
// addressed by custom id. Oneflow answers each changed field with a
// data_field:update webhook, so flexflow sees its own writes come back.
func (c *Client) UpdateDataFields(ctx context.Context, contractID int64, updates []DataFieldUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	fields := make([]DataField, 0, len(updates))
	for _, u := range updates {
		if u.CustomID == "" {
			return errors.New("oneflow: UpdateDataFields: every update needs a custom id")
		}
		fields = append(fields, DataField{Value: u.Value, PrivateOwnerside: DataFieldPrivateOwnerside{CustomID: u.CustomID}})
	}
	body := map[string]any{dataFieldsWrapperKey: fields}
	cl, err := newCall(http.MethodPut, "/contracts/{id}/data_fields",
		fmt.Sprintf(pathContractDataFields, contractID), nil, body)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, cl, nil)
}

// listEnvelope is the {count, data} wrapper of Oneflow's lists.
type listEnvelope[T any] struct {
	Count int `json:"count"`
	Data  []T `json:"data"`
	Links struct {
		Next *struct {
			Href *string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

func (e listEnvelope[T]) hasNext(offset int) bool {
	if e.Links.Next != nil && e.Links.Next.Href != nil && *e.Links.Next.Href != "" {
		return true
	}
	return len(e.Data) > 0 && offset+len(e.Data) < e.Count
}

// ListParties reads the parties of a contract with their participants.
func (c *Client) ListParties(ctx context.Context, contractID int64) ([]Party, error) {
	cl, err := newCall(http.MethodGet, "/contracts/{id}/parties", fmt.Sprintf("/contracts/%d/parties", contractID), nil, nil)
	if err != nil {
		return nil, err
	}
	var env listEnvelope[Party]
	if err := c.doJSON(ctx, cl, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

// AddCounterparty adds an individual party with one participant to the
// contract and returns the new party (with the participant's id).
func (c *Client) AddCounterparty(ctx context.Context, contractID int64, participant NewParticipant) (Party, error) {
	body := map[string]any{"type": PartyTypeIndividual, "participant": participant}
	cl, err := newCall(http.MethodPost, "/contracts/{id}/parties", fmt.Sprintf("/contracts/%d/parties", contractID), nil, body)
	if err != nil {
		return Party{}, err
	}
	var party Party
	if err := c.doJSON(ctx, cl, &party); err != nil {
		return Party{}, err
	}
	return party, nil
}

// AddParticipant adds a participant to an existing party, the owner side
// included (where the email must be an active Oneflow user's).
func (c *Client) AddParticipant(ctx context.Context, contractID, partyID int64, participant NewParticipant) (Participant, error) {
	cl, err := newCall(http.MethodPost, "/contracts/{id}/parties/{party_id}/participants",
		fmt.Sprintf("/contracts/%d/parties/%d/participants", contractID, partyID), nil, participant)
	if err != nil {
		return Participant{}, err
	}
	var created Participant
	if err := c.doJSON(ctx, cl, &created); err != nil {
		return Participant{}, err
	}
	return created, nil
}

// UpdateParticipant changes the given attributes of a participant.
func (c *Client) UpdateParticipant(ctx context.Context, contractID, partyID, participantID int64, update ParticipantUpdate) (Participant, error) {
	cl, err := newCall(http.MethodPut, "/contracts/{id}/parties/{party_id}/participants/{participant_id}",
		fmt.Sprintf(pathParticipant, contractID, partyID, participantID), nil, update)
	if err != nil {
		return Participant{}, err
	}
	var updated Participant
	if err := c.doJSON(ctx, cl, &updated); err != nil {
		return Participant{}, err
	}
	return updated, nil
}

// RemoveParticipant removes a participant from its party.
func (c *Client) RemoveParticipant(ctx context.Context, contractID, partyID, participantID int64) error {
	cl, err := newCall(http.MethodDelete, "/contracts/{id}/parties/{party_id}/participants/{participant_id}",
		fmt.Sprintf(pathParticipant, contractID, partyID, participantID), nil, nil)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, cl, nil)
}
