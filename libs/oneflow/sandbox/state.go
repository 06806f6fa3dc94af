package sandbox

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// state is the account's data; guarded by Server.mu.
type state struct {
	users         []oneflow.User
	templateTypes []*templateType
	templates     []*template
	contracts     map[int64]*contractState
	nextContract  int64
	nextID        int64
	nextEvent     int64
}

type templateType struct {
	id          int64
	name        string
	description string
	fields      []*ttField
}

// ttField is a template type data field; raw keeps every attribute it was
// given, so attributes the sandbox does not model survive a replace.
type ttField struct {
	id       int64
	customID string
	name     string
	value    string
	raw      map[string]json.RawMessage
}

type template struct {
	seed    SeedTemplate
	exclude map[string]bool
}

type contractState struct {
	c oneflow.Contract
}

func newState(seed Seed) *state {
	st := &state{
		users:        append([]oneflow.User(nil), seed.Users...),
		contracts:    map[int64]*contractState{},
		nextContract: max(seed.FirstContractID, 1),
		nextID:       10_000,
		nextEvent:    900_000,
	}
	for _, tt := range seed.TemplateTypes {
		t := &templateType{id: tt.ID, name: tt.Name, description: tt.Description}
		for _, f := range tt.DataFields {
			raw, _ := json.Marshal(f)
			field := &ttField{id: f.ID, customID: f.CustomID, name: f.Name, value: f.Value}
			_ = json.Unmarshal(raw, &field.raw)
			if field.id == 0 {
				field.id = st.newID()
			}
			t.fields = append(t.fields, field)
		}
		st.templateTypes = append(st.templateTypes, t)
	}
	for _, t := range seed.Templates {
		tmpl := &template{seed: t, exclude: map[string]bool{}}
		for _, id := range t.ExcludeCustomIDs {
			tmpl.exclude[id] = true
		}
		st.templates = append(st.templates, tmpl)
	}
	return st
}

func (st *state) newID() int64 {
	st.nextID++
	return st.nextID
}

func (st *state) activeUser(normalizedEmail string) (oneflow.User, bool) {
	for _, u := range st.users {
		if u.Active && strings.EqualFold(strings.TrimSpace(u.Email), normalizedEmail) {
			return u, true
		}
	}
	return oneflow.User{}, false
}

func (st *state) templateType(id int64) *templateType {
	for _, t := range st.templateTypes {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (st *state) template(id int64) *template {
	for _, t := range st.templates {
		if t.seed.ID == id {
			return t
		}
	}
	return nil
}

func (st *state) contract(id int64) (*contractState, *Error) {
	c, ok := st.contracts[id]
	if !ok {
		return nil, notFound(fmt.Sprintf("contract %d", id))
	}
	return c, nil
}

func (st *state) sortedContracts() []*contractState {
	out := make([]*contractState, 0, len(st.contracts))
	for _, c := range st.contracts {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].c.ID < out[j].c.ID })
	return out
}

func (tt *templateType) json() oneflow.TemplateType {
	return oneflow.TemplateType{ID: tt.id, Name: tt.name, Description: tt.description}
}

func (f *ttField) json() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(f.raw)+3)
	for k, v := range f.raw {
		out[k] = v
	}
	out["id"], _ = json.Marshal(f.id)
	out["custom_id"], _ = json.Marshal(f.customID)
	out["name"], _ = json.Marshal(f.name)
	return out
}

// now formats a time as Oneflow does.
func now() string {
	return time.Now().UTC().Format("2006-01-02T15:04:05-07:00")
}

func availableOptions(delivery, twoStep string) oneflow.ContractAvailableOptions {
	required := map[string][]string{
		oneflow.DeliveryChannelEmail:       {"email"},
		oneflow.DeliveryChannelSMS:         {"phone_number"},
		oneflow.DeliveryChannelEmailAndSMS: {"email", "phone_number"},
		oneflow.DeliveryChannelSameDevice:  {},
		oneflow.DeliveryChannelNone:        {},
	}
	var opts oneflow.ContractAvailableOptions
	for _, name := range deliveryChannels {
		opts.DeliveryChannels = append(opts.DeliveryChannels, oneflow.Option{
			Name: name, Preferred: name == delivery, RequiredParticipantAttributes: nonNil(required[name])})
	}
	twoStepRequired := map[string][]string{oneflow.TwoStepEmail: {"email"}, oneflow.TwoStepSMS: {"phone_number"}}
	for _, name := range twoStepMethods {
		opts.TwoStepAuthenticationMethods = append(opts.TwoStepAuthenticationMethods, oneflow.Option{
			Name: name, Preferred: name == twoStep, RequiredParticipantAttributes: nonNil(twoStepRequired[name])})
	}
	return opts
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// newContract builds a draft contract from a template, with the owner side's
// company and organizer.
func (st *state) newContract(t *template, name string, owner SeedParty) *contractState {
	id := st.nextContract
	st.nextContract++
	tt := st.templateType(t.seed.TemplateTypeID)
	c := oneflow.Contract{
		ID:               id,
		State:            oneflow.StateDraft,
		Private:          oneflow.ContractPrivate{Name: name},
		PrivateOwnerside: oneflow.ContractPrivateOwnerside{TemplateID: t.seed.ID, TemplateTypeID: t.seed.TemplateTypeID},
		DataFields:       []oneflow.DataField{},
		AvailableOptions: availableOptions(t.seed.PreferredDeliveryChannel, t.seed.PreferredTwoStepMethod),
		UpdatedTime:      now(),
	}
	if tt != nil {
		for _, f := range tt.fields {
			if t.exclude[f.customID] {
				continue
			}
			c.DataFields = append(c.DataFields, oneflow.DataField{
				ID: st.newID(), Name: f.name, Value: f.value,
				PrivateOwnerside: oneflow.DataFieldPrivateOwnerside{CustomID: f.customID},
			})
		}
	}
	organizer := oneflow.Participant{
		ID: st.newID(), Name: owner.Organizer.Name, Email: owner.Organizer.Email,
		PhoneNumber: owner.Organizer.PhoneNumber, Title: owner.Organizer.Title,
		Signatory: true, Organizer: true,
		DeliveryChannel:             oneflow.DeliveryChannelEmail,
		TwoStepAuthenticationMethod: oneflow.TwoStepNone,
		SignMethod:                  "standard_esign",
		SignState:                   oneflow.SignStateNotSigned,
		Permissions:                 oneflow.Permissions{ContractUpdate: true},
	}
	c.Parties = []oneflow.Party{{
		ID: st.newID(), Name: owner.Name, Type: oneflow.PartyTypeCompany, MyParty: true,
		Participants: []oneflow.Participant{organizer},
	}}
	cs := &contractState{c: c}
	st.contracts[id] = cs
	return cs
}

func (cs *contractState) touch() { cs.c.UpdatedTime = now() }

func (cs *contractState) party(id int64) (*oneflow.Party, *Error) {
	for i := range cs.c.Parties {
		if cs.c.Parties[i].ID == id {
			return &cs.c.Parties[i], nil
		}
	}
	return nil, notFound(fmt.Sprintf("party %d of contract %d", id, cs.c.ID))
}

func (cs *contractState) participantCounts() (total, ownerSide int) {
	for _, p := range cs.c.Parties {
		total += len(p.Participants)
		if p.MyParty {
			ownerSide += len(p.Participants)
		}
	}
	return total, ownerSide
}

func (cs *contractState) dataField(idOrCustomID string) (*oneflow.DataField, bool) {
	for i := range cs.c.DataFields {
		if fmt.Sprint(cs.c.DataFields[i].ID) == idOrCustomID {
			return &cs.c.DataFields[i], true
		}
	}
	for i := range cs.c.DataFields {
		if cs.c.DataFields[i].PrivateOwnerside.CustomID == idOrCustomID {
			return &cs.c.DataFields[i], true
		}
	}
	return nil, false
}

// snapshot deep-copies the contract through JSON, so callers can use it
// without the lock.
func (cs *contractState) snapshot() oneflow.Contract {
	b, _ := json.Marshal(cs.c)
	var out oneflow.Contract
	_ = json.Unmarshal(b, &out)
	return out
}

// event is a webhook to send once the state change is committed.
type event struct {
	contractID int64
	typ        string
}
