package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// mutate runs fn under the lock and, when it succeeds, sends the webhooks it
// produced, in order, after the change is committed.
func (s *Server) mutate(fn func(st *state) ([]event, error)) error {
	s.mu.Lock()
	events, err := fn(s.st)
	var out []oneflow.Event
	var contracts []int64
	if err == nil {
		for _, e := range events {
			s.st.nextEvent++
			out = append(out, oneflow.Event{ID: s.st.nextEvent, Type: e.typ, CreatedTime: now()})
			contracts = append(contracts, e.contractID)
		}
	}
	s.mu.Unlock()
	for i := range out {
		s.hooks.enqueue(contracts[i], out[i])
	}
	return err
}

func pathID(r *http.Request, name string) (int64, *Error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound(name + " " + strconv.Quote(r.PathValue(name)))
	}
	return id, nil
}

func (s *Server) handlePing(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleGetContract(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	c, err := s.Contract(id)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// Contract returns a copy of a contract as the API shows it.
func (s *Server) Contract(id int64) (oneflow.Contract, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, e := s.st.contract(id)
	if e != nil {
		return oneflow.Contract{}, e
	}
	return cs.snapshot(), nil
}

func (s *Server) handleUpdateContract(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body struct {
		Private *struct {
			Name *string `json:"name"`
		} `json:"_private"`
	}
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	if body.Private == nil || body.Private.Name == nil {
		writeOneflowError(w, r, invalid("nothing to update", map[string][]string{"_private.name": {"is required"}}))
		return
	}
	if err := s.SetContractName(id, *body.Private.Name); err != nil {
		writeErr(w, r, err)
		return
	}
	s.writeContract(w, r, id)
}

func (s *Server) writeContract(w http.ResponseWriter, r *http.Request, id int64) {
	c, err := s.Contract(id)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// fieldUpdate is one data field write: by id or custom id.
type fieldUpdate struct {
	ID               *int64 `json:"id"`
	PrivateOwnerside *struct {
		CustomID string `json:"custom_id"`
	} `json:"_private_ownerside"`
	Value *string `json:"value"`
}

func (u fieldUpdate) key() string {
	if u.ID != nil {
		return strconv.FormatInt(*u.ID, 10)
	}
	if u.PrivateOwnerside != nil {
		return u.PrivateOwnerside.CustomID
	}
	return ""
}

func valueProblem(value string) string {
	if n := utf8.RuneCountInString(value); n > oneflow.MaxDataFieldValueLength {
		return fmt.Sprintf("must be at most %d characters, is %d", oneflow.MaxDataFieldValueLength, n)
	}
	return ""
}

// setDataFields validates every update first, then applies them all and emits
// data_field:update for each field whose value changed.
func (st *state) setDataFields(cs *contractState, updates []fieldUpdate, paramPrefix func(i int) string) ([]event, *Error) {
	problems := map[string][]string{}
	targets := make([]*oneflow.DataField, len(updates))
	for i, u := range updates {
		field, ok := cs.dataField(u.key())
		if u.key() == "" || !ok {
			problems[paramPrefix(i)+"_private_ownerside.custom_id"] = append(problems[paramPrefix(i)+"_private_ownerside.custom_id"],
				"no data field of the contract has this id or custom_id")
			continue
		}
		if u.Value == nil {
			problems[paramPrefix(i)+"value"] = []string{"is required"}
			continue
		}
		if p := valueProblem(*u.Value); p != "" {
			problems[paramPrefix(i)+"value"] = []string{p}
			continue
		}
		targets[i] = field
	}
	if len(problems) > 0 {
		return nil, invalid("invalid data fields", problems)
	}
	var events []event
	for i, u := range updates {
		if targets[i].Value != *u.Value {
			targets[i].Value = *u.Value
			events = append(events, event{cs.c.ID, oneflow.EventDataFieldUpdate})
		}
	}
	if len(events) > 0 {
		cs.touch()
	}
	return events, nil
}

func (s *Server) handleUpdateDataFields(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body struct {
		DataFields []fieldUpdate `json:"data_fields"`
	}
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	if len(body.DataFields) == 0 {
		writeOneflowError(w, r, invalid("no data fields given", map[string][]string{"data_fields": {"must not be empty"}}))
		return
	}
	var fields []oneflow.DataField
	err := s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(id)
		if e != nil {
			return nil, e
		}
		if cs.c.State != oneflow.StateDraft {
			return nil, conflict("data fields can be updated through the API only while the contract is a draft")
		}
		events, e := st.setDataFields(cs, body.DataFields, func(i int) string { return fmt.Sprintf("data_fields[%d].", i) })
		if e != nil {
			return nil, e
		}
		fields = cs.snapshot().DataFields
		return events, nil
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data_fields": fields})
}

func (s *Server) handleUpdateDataField(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body fieldUpdate
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	key := r.PathValue("field")
	var updated oneflow.DataField
	err := s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(id)
		if e != nil {
			return nil, e
		}
		f, ok := cs.dataField(key)
		if !ok {
			return nil, notFound("data field " + strconv.Quote(key))
		}
		if cs.c.State != oneflow.StateDraft {
			return nil, conflict("data fields can be updated through the API only while the contract is a draft")
		}
		fieldID := f.ID
		events, e := st.setDataFields(cs, []fieldUpdate{{ID: &fieldID, Value: body.Value}}, func(int) string { return "" })
		if e != nil {
			return nil, e
		}
		updated = *f
		return events, nil
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

func (s *Server) handleListParties(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	c, err := s.Contract(id)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(c.Parties), "data": c.Parties})
}

func participantsChangeable(cs *contractState) *Error {
	switch cs.c.State {
	case oneflow.StateDraft, oneflow.StatePending, oneflow.StateOverdue:
		return nil
	}
	return conflict("participants cannot be changed once the contract is " + cs.c.State)
}

// newParticipant checks a participant to add and fills Oneflow's defaults.
func (st *state) newParticipant(cs *contractState, in oneflow.NewParticipant, ownerSide bool, param string) (oneflow.Participant, *Error) {
	problems := map[string][]string{}
	add := func(field, problem string) { problems[param+field] = append(problems[param+field], problem) }
	p := oneflow.Participant{
		ID: 0, Name: strings.TrimSpace(in.Name), Email: strings.TrimSpace(in.Email), PhoneNumber: strings.TrimSpace(in.PhoneNumber),
		Title: in.Title, IdentificationNumber: in.IdentificationNumber, Signatory: in.Signatory, Organizer: in.Organizer,
		DeliveryChannel: in.DeliveryChannel, TwoStepAuthenticationMethod: in.TwoStepAuthenticationMethod,
		SignMethod: in.SignMethod, SignState: oneflow.SignStateNotSigned,
	}
	if in.Permissions != nil {
		p.Permissions = *in.Permissions
	}
	if ownerSide {
		user, ok := st.activeUser(strings.ToLower(p.Email))
		if !ok {
			add("email", "an owner-side participant must be an active user of the account")
		} else if p.Name == "" {
			p.Name = user.Name
		}
	}
	if p.DeliveryChannel == "" {
		p.DeliveryChannel = oneflow.PreferredDeliveryChannel(cs.c)
	}
	if p.TwoStepAuthenticationMethod == "" {
		p.TwoStepAuthenticationMethod = oneflow.PreferredTwoStepMethod(cs.c)
	}
	if p.SignMethod == "" {
		p.SignMethod = "standard_esign"
	}
	checkParticipant(p, add)
	if len(problems) > 0 {
		return oneflow.Participant{}, invalid("invalid participant", problems)
	}
	p.ID = st.newID()
	return p, nil
}

// checkParticipant applies the rules every participant must meet: a name, a
// plausible email, and what its delivery channel and two-step method need.
func checkParticipant(p oneflow.Participant, add func(field, problem string)) {
	if p.Name == "" {
		add("name", "is required")
	}
	if p.Email != "" && (!strings.Contains(p.Email, "@") || strings.ContainsAny(p.Email, " \t\r\n")) {
		add("email", "is not a valid email address")
	}
	if !contains(deliveryChannels, p.DeliveryChannel) {
		add("delivery_channel", "is not a known delivery channel")
	}
	if !contains(twoStepMethods, p.TwoStepAuthenticationMethod) {
		add("two_step_authentication_method", "is not a known two-step authentication method")
	}
	needsEmail := p.DeliveryChannel == oneflow.DeliveryChannelEmail || p.DeliveryChannel == oneflow.DeliveryChannelEmailAndSMS ||
		p.TwoStepAuthenticationMethod == oneflow.TwoStepEmail
	needsPhone := p.DeliveryChannel == oneflow.DeliveryChannelSMS || p.DeliveryChannel == oneflow.DeliveryChannelEmailAndSMS ||
		p.TwoStepAuthenticationMethod == oneflow.TwoStepSMS
	if needsEmail && p.Email == "" {
		add("email", "is required by the delivery channel or two-step method")
	}
	if needsPhone && p.PhoneNumber == "" {
		add("phone_number", "is required by the delivery channel or two-step method")
	}
}

func checkLimits(cs *contractState, ownerSide bool) *Error {
	total, owner := cs.participantCounts()
	if total >= oneflow.MaxParticipants {
		return invalid(fmt.Sprintf("a contract can have at most %d participants", oneflow.MaxParticipants),
			map[string][]string{"participants": {fmt.Sprintf("at most %d per contract", oneflow.MaxParticipants)}})
	}
	if ownerSide && owner >= oneflow.MaxOwnerSideParticipants {
		return invalid(fmt.Sprintf("the owner side can have at most %d participants", oneflow.MaxOwnerSideParticipants),
			map[string][]string{"participants": {fmt.Sprintf("at most %d on the owner side", oneflow.MaxOwnerSideParticipants)}})
	}
	return nil
}

func (s *Server) handleAddParty(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body struct {
		Type                 string                  `json:"type"`
		Name                 string                  `json:"name"`
		IdentificationNumber string                  `json:"identification_number"`
		Participant          *oneflow.NewParticipant `json:"participant"`
	}
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var created oneflow.Party
	err := s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(id)
		if e != nil {
			return nil, e
		}
		if e := participantsChangeable(cs); e != nil {
			return nil, e
		}
		switch {
		case body.Type != oneflow.PartyTypeIndividual && body.Type != oneflow.PartyTypeCompany:
			return nil, invalid("invalid party", map[string][]string{"type": {"must be individual or company"}})
		case body.Participant == nil:
			return nil, invalid("invalid party", map[string][]string{"participant": {"is required"}})
		case body.Type == oneflow.PartyTypeCompany && strings.TrimSpace(body.Name) == "":
			return nil, invalid("invalid party", map[string][]string{"name": {"is required for a company"}})
		}
		if e := checkLimits(cs, false); e != nil {
			return nil, e
		}
		p, e := st.newParticipant(cs, *body.Participant, false, "participant.")
		if e != nil {
			return nil, e
		}
		party := oneflow.Party{ID: st.newID(), Name: body.Name, Type: body.Type, Participants: []oneflow.Participant{p}}
		if body.Type == oneflow.PartyTypeIndividual {
			party.Name = p.Name
		}
		cs.c.Parties = append(cs.c.Parties, party)
		cs.touch()
		created = party
		return nil, nil
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, created)
}

func (s *Server) handleAddParticipant(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	partyID, e := pathID(r, "party")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body oneflow.NewParticipant
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var created oneflow.Participant
	err := s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(id)
		if e != nil {
			return nil, e
		}
		party, e := cs.party(partyID)
		if e != nil {
			return nil, e
		}
		if e := participantsChangeable(cs); e != nil {
			return nil, e
		}
		if e := checkLimits(cs, party.MyParty); e != nil {
			return nil, e
		}
		p, e := st.newParticipant(cs, body, party.MyParty, "")
		if e != nil {
			return nil, e
		}
		party.Participants = append(party.Participants, p)
		cs.touch()
		created = p
		return nil, nil
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, created)
}

func findParticipant(party *oneflow.Party, id int64) (int, *Error) {
	for i := range party.Participants {
		if party.Participants[i].ID == id {
			return i, nil
		}
	}
	return -1, notFound(fmt.Sprintf("participant %d of party %d", id, party.ID))
}

func (s *Server) handleUpdateParticipant(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	partyID, e := pathID(r, "party")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	participantID, e := pathID(r, "participant")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body oneflow.ParticipantUpdate
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var updated oneflow.Participant
	err := s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(id)
		if e != nil {
			return nil, e
		}
		party, e := cs.party(partyID)
		if e != nil {
			return nil, e
		}
		i, e := findParticipant(party, participantID)
		if e != nil {
			return nil, e
		}
		if e := participantsChangeable(cs); e != nil {
			return nil, e
		}
		p := party.Participants[i]
		problems := map[string][]string{}
		add := func(field, problem string) { problems[field] = append(problems[field], problem) }
		if body.Email != nil && !strings.EqualFold(strings.TrimSpace(*body.Email), p.Email) {
			if party.MyParty {
				add("email", "cannot be changed for an owner-side participant")
			}
			p.Email = strings.TrimSpace(*body.Email)
		}
		setString(&p.Name, body.Name)
		setString(&p.PhoneNumber, body.PhoneNumber)
		setString(&p.Title, body.Title)
		setString(&p.IdentificationNumber, body.IdentificationNumber)
		setString(&p.DeliveryChannel, body.DeliveryChannel)
		setString(&p.TwoStepAuthenticationMethod, body.TwoStepAuthenticationMethod)
		if body.Signatory != nil {
			p.Signatory = *body.Signatory
		}
		if body.Permissions != nil {
			p.Permissions = *body.Permissions
		}
		checkParticipant(p, add)
		if len(problems) > 0 {
			return nil, invalid("invalid participant", problems)
		}
		party.Participants[i] = p
		if party.Type == oneflow.PartyTypeIndividual && len(party.Participants) == 1 {
			party.Name = p.Name
		}
		cs.touch()
		updated = p
		return nil, nil
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = strings.TrimSpace(*v)
	}
}

func (s *Server) handleRemoveParticipant(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	partyID, e := pathID(r, "party")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	participantID, e := pathID(r, "participant")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	err := s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(id)
		if e != nil {
			return nil, e
		}
		party, e := cs.party(partyID)
		if e != nil {
			return nil, e
		}
		i, e := findParticipant(party, participantID)
		if e != nil {
			return nil, e
		}
		if e := participantsChangeable(cs); e != nil {
			return nil, e
		}
		if party.MyParty && len(party.Participants) == 1 {
			return nil, conflict("the owner side needs at least one participant")
		}
		party.Participants = append(party.Participants[:i], party.Participants[i+1:]...)
		if len(party.Participants) == 0 {
			// A counterparty without participants is removed with its last one.
			for j := range cs.c.Parties {
				if cs.c.Parties[j].ID == partyID {
					cs.c.Parties = append(cs.c.Parties[:j], cs.c.Parties[j+1:]...)
					break
				}
			}
		}
		cs.touch()
		return nil, nil
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// page reads limit and offset as Oneflow does: limit 1..100 (default 100),
// offset 0..19900.
func page(r *http.Request) (limit, offset int, e *Error) {
	limit, offset = oneflow.MaxPageLimit, 0
	problems := map[string][]string{}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > oneflow.MaxPageLimit {
			problems["limit"] = []string{fmt.Sprintf("must be an integer from 1 to %d", oneflow.MaxPageLimit)}
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > oneflow.MaxPageOffset {
			problems["offset"] = []string{fmt.Sprintf("must be an integer from 0 to %d", oneflow.MaxPageOffset)}
		}
		offset = n
	}
	if len(problems) > 0 {
		return 0, 0, invalid("invalid paging", problems)
	}
	return limit, offset, nil
}

type link struct {
	Href *string `json:"href"`
}

// writePage answers one page of items in Oneflow's list envelope.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, limit, offset int) {
	end := min(offset+limit, len(items))
	data := []T{}
	if offset < len(items) {
		data = items[offset:end]
	}
	href := func(off int) *string {
		u := url.URL{Path: r.URL.Path, RawQuery: url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(off)}}.Encode()}
		s := u.String()
		return &s
	}
	links := map[string]link{"self": {href(offset)}, "next": {}, "previous": {}}
	if end < len(items) && end <= oneflow.MaxPageOffset {
		links["next"] = link{href(end)}
	}
	if offset > 0 {
		links["previous"] = link{href(max(offset-limit, 0))}
	}
	writeJSON(w, http.StatusOK, map[string]any{"_links": links, "count": len(items), "data": data})
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	limit, offset, e := page(r)
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	users := append([]oneflow.User(nil), s.st.users...)
	s.mu.Unlock()
	writePage(w, r, users, limit, offset)
}

func (s *Server) templateJSON(t *template) oneflow.Template {
	out := oneflow.Template{ID: t.seed.ID, Name: t.seed.Name}
	if tt := s.st.templateType(t.seed.TemplateTypeID); tt != nil {
		out.TemplateType = tt.json()
	}
	return out
}

func (s *Server) handleListTemplates(w http.ResponseWriter, r *http.Request) {
	limit, offset, e := page(r)
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	var out []oneflow.Template
	for _, t := range s.st.templates {
		out = append(out, s.templateJSON(t))
	}
	s.mu.Unlock()
	writePage(w, r, out, limit, offset)
}

func (s *Server) handleGetTemplate(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	t := s.st.template(id)
	var out oneflow.Template
	if t != nil {
		out = s.templateJSON(t)
	}
	s.mu.Unlock()
	if t == nil {
		writeOneflowError(w, r, notFound(fmt.Sprintf("template %d", id)))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListTemplateTypes(w http.ResponseWriter, r *http.Request) {
	limit, offset, e := page(r)
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	var out []oneflow.TemplateType
	for _, tt := range s.st.templateTypes {
		out = append(out, tt.json())
	}
	s.mu.Unlock()
	writePage(w, r, out, limit, offset)
}

func (s *Server) handleGetTemplateType(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	tt := s.st.templateType(id)
	var out oneflow.TemplateType
	if tt != nil {
		out = tt.json()
	}
	s.mu.Unlock()
	if tt == nil {
		writeOneflowError(w, r, notFound(fmt.Sprintf("template type %d", id)))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateTemplateType(w http.ResponseWriter, r *http.Request) {
	var body oneflow.NewTemplateType
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	if strings.TrimSpace(body.Name) == "" {
		writeOneflowError(w, r, invalid("invalid template type", map[string][]string{"name": {"is required"}}))
		return
	}
	s.mu.Lock()
	tt := &templateType{id: s.st.newID(), name: strings.TrimSpace(body.Name), description: body.Description}
	s.st.templateTypes = append(s.st.templateTypes, tt)
	out := tt.json()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleListTemplateTypeDataFields(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	limit, offset, e := page(r)
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	tt := s.st.templateType(id)
	var fields []map[string]json.RawMessage
	if tt != nil {
		for _, f := range tt.fields {
			fields = append(fields, f.json())
		}
	}
	s.mu.Unlock()
	if tt == nil {
		writeOneflowError(w, r, notFound(fmt.Sprintf("template type %d", id)))
		return
	}
	writePage(w, r, fields, limit, offset)
}

// handleSetTemplateTypeDataFields REPLACES the type's data fields, as Oneflow
// documents: given fields are updated (by id, else by custom id) or created,
// fields left out are deleted (and so disappear from the type's templates).
func (s *Server) handleSetTemplateTypeDataFields(w http.ResponseWriter, r *http.Request) {
	id, e := pathID(r, "id")
	if e != nil {
		writeOneflowError(w, r, e)
		return
	}
	var body struct {
		DataFields []map[string]json.RawMessage `json:"data_fields"`
	}
	if e := decodeBody(r, &body); e != nil {
		writeOneflowError(w, r, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tt := s.st.templateType(id)
	if tt == nil {
		writeOneflowError(w, r, notFound(fmt.Sprintf("template type %d", id)))
		return
	}
	problems := map[string][]string{}
	seen := map[string]bool{}
	var next []*ttField
	for i, raw := range body.DataFields {
		param := fmt.Sprintf("data_fields[%d].", i)
		var f struct {
			ID       *int64  `json:"id"`
			CustomID *string `json:"custom_id"`
			Name     *string `json:"name"`
			Value    *string `json:"value"`
		}
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, &f); err != nil {
			problems[param[:len(param)-1]] = []string{"has attributes of the wrong type"}
			continue
		}
		var existing *ttField
		for _, old := range tt.fields {
			if (f.ID != nil && old.id == *f.ID) || (f.ID == nil && f.CustomID != nil && *f.CustomID != "" && old.customID == *f.CustomID) {
				existing = old
				break
			}
		}
		if f.ID != nil && existing == nil {
			problems[param+"id"] = []string{"no data field of this template type has this id"}
			continue
		}
		field := &ttField{raw: map[string]json.RawMessage{}}
		if existing != nil {
			*field = *existing
			field.raw = map[string]json.RawMessage{}
			for k, v := range existing.raw {
				field.raw[k] = v
			}
		} else {
			field.id = s.st.newID()
		}
		for k, v := range raw {
			field.raw[k] = v
		}
		if f.CustomID != nil {
			field.customID = *f.CustomID
		}
		if f.Name != nil {
			field.name = strings.TrimSpace(*f.Name)
		}
		if f.Value != nil {
			if p := valueProblem(*f.Value); p != "" {
				problems[param+"value"] = []string{p}
			}
			field.value = *f.Value
		}
		if field.name == "" {
			problems[param+"name"] = []string{"is required"}
		}
		if field.customID != "" {
			if seen[field.customID] {
				problems[param+"custom_id"] = []string{"is given twice"}
			}
			seen[field.customID] = true
		}
		next = append(next, field)
	}
	if len(problems) > 0 {
		writeOneflowError(w, r, invalid("invalid data fields", problems))
		return
	}
	tt.fields = next
	out := make([]map[string]json.RawMessage, 0, len(next))
	for _, f := range next {
		out = append(out, f.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "data": out})
}
