package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
)

// What a person does in the Oneflow app, as Go methods and as HTTP under
// /_sandbox/contracts (no auth). Each sends the webhooks Oneflow would.

// CreateContractRequest creates a draft contract from a template.
type CreateContractRequest struct {
	TemplateID int64 `json:"template_id"`
	// EmployeeNumber, when set, fills the flexhrm_employee_number data field
	// (the template must have it).
	EmployeeNumber string `json:"employee_number,omitempty"`
	// Name is the contract's name; nil takes the template's name.
	Name *string `json:"name,omitempty"`
	// DataFields sets further values by custom id.
	DataFields map[string]string `json:"data_fields,omitempty"`
}

// CreateContract creates a draft contract from a template and sends
// contract:create.
func (s *Server) CreateContract(req CreateContractRequest) (oneflow.Contract, error) {
	var created oneflow.Contract
	err := s.mutate(func(st *state) ([]event, error) {
		t := st.template(req.TemplateID)
		if t == nil {
			return nil, notFound(fmt.Sprintf("template %d", req.TemplateID))
		}
		values := map[string]string{}
		for k, v := range req.DataFields {
			values[k] = v
		}
		if req.EmployeeNumber != "" {
			values[oneflow.CustomIDEmployeeNumber] = req.EmployeeNumber
		}
		name := t.seed.Name
		if req.Name != nil {
			name = *req.Name
		}
		// Check before creating, so a refused request leaves nothing behind.
		problems := map[string][]string{}
		available := map[string]bool{}
		if tt := st.templateType(t.seed.TemplateTypeID); tt != nil {
			for _, f := range tt.fields {
				available[f.customID] = !t.exclude[f.customID]
			}
		}
		for k, v := range values {
			param := "data_fields." + k
			if k == oneflow.CustomIDEmployeeNumber && req.EmployeeNumber != "" {
				param = "employee_number"
			}
			if !available[k] {
				problems[param] = []string{"the template has no data field with this custom id"}
			} else if p := valueProblem(v); p != "" {
				problems[param] = []string{p}
			}
		}
		if len(problems) > 0 {
			return nil, invalid("invalid contract", problems)
		}
		cs := st.newContract(t, name, s.seed.OwnerParty)
		for i := range cs.c.DataFields {
			if v, ok := values[cs.c.DataFields[i].PrivateOwnerside.CustomID]; ok {
				cs.c.DataFields[i].Value = v
			}
		}
		created = cs.snapshot()
		return []event{{cs.c.ID, oneflow.EventContractCreate}}, nil
	})
	return created, err
}

// SetDataField changes a data field as a person in the app does (draft or
// pending) and sends data_field:update when the value changed.
func (s *Server) SetDataField(contractID int64, customID, value string) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if cs.c.State != oneflow.StateDraft && cs.c.State != oneflow.StatePending {
			return nil, conflict("data fields can only be changed while the contract is a draft or pending")
		}
		if _, ok := cs.dataField(customID); !ok {
			return nil, notFound("data field " + customID)
		}
		u := fieldUpdate{Value: &value}
		u.PrivateOwnerside = &struct {
			CustomID string `json:"custom_id"`
		}{CustomID: customID}
		events, e := st.setDataFields(cs, []fieldUpdate{u}, func(int) string { return "" })
		if e != nil {
			return nil, e
		}
		return events, nil
	})
}

// SetContractName renames a contract (draft, pending or signed); no webhook.
func (s *Server) SetContractName(contractID int64, name string) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if cs.c.State == oneflow.StateDeclined {
			return nil, conflict("a declined contract cannot be renamed")
		}
		cs.c.Private.Name = name
		cs.touch()
		return nil, nil
	})
}

// Publish sends a draft for signing (draft to pending) and sends
// contract:publish.
func (s *Server) Publish(contractID int64) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if cs.c.State != oneflow.StateDraft {
			return nil, conflict("only a draft can be published, the contract is " + cs.c.State)
		}
		cs.c.State = oneflow.StatePending
		cs.c.PublishedTime = now()
		cs.touch()
		return []event{{contractID, oneflow.EventContractPublish}}, nil
	})
}

func signable(cs *contractState) *Error {
	if cs.c.State != oneflow.StatePending && cs.c.State != oneflow.StateOverdue {
		return conflict("only a pending contract can be signed or declined, the contract is " + cs.c.State)
	}
	return nil
}

// signLocked signs for one participant; it reports whether the contract is now
// signed by every signatory.
func signLocked(cs *contractState, participantID int64) (bool, *Error) {
	found := false
	for i := range cs.c.Parties {
		for j := range cs.c.Parties[i].Participants {
			p := &cs.c.Parties[i].Participants[j]
			if p.ID != participantID {
				continue
			}
			found = true
			if !p.Signatory {
				return false, conflict(fmt.Sprintf("participant %d is not a signatory", participantID))
			}
			if p.SignState == oneflow.SignStateSigned {
				return false, conflict(fmt.Sprintf("participant %d has already signed", participantID))
			}
			p.SignState = oneflow.SignStateSigned
		}
	}
	if !found {
		return false, notFound(fmt.Sprintf("participant %d", participantID))
	}
	cs.touch()
	return allSigned(cs), nil
}

func allSigned(cs *contractState) bool {
	for _, party := range cs.c.Parties {
		for _, p := range party.Participants {
			if p.Signatory && p.SignState != oneflow.SignStateSigned {
				return false
			}
		}
	}
	return true
}

// Sign signs as one participant; when every signatory has signed, the contract
// turns signed and contract:sign is sent.
func (s *Server) Sign(contractID, participantID int64) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if e := signable(cs); e != nil {
			return nil, e
		}
		done, e := signLocked(cs, participantID)
		if e != nil {
			return nil, e
		}
		if !done {
			return nil, nil
		}
		cs.c.State = oneflow.StateSigned
		return []event{{contractID, oneflow.EventContractSign}}, nil
	})
}

// SignAll signs as every signatory who has not signed yet: the contract turns
// signed and contract:sign is sent once.
func (s *Server) SignAll(contractID int64) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if e := signable(cs); e != nil {
			return nil, e
		}
		for i := range cs.c.Parties {
			for j := range cs.c.Parties[i].Participants {
				if p := &cs.c.Parties[i].Participants[j]; p.Signatory {
					p.SignState = oneflow.SignStateSigned
				}
			}
		}
		cs.c.State = oneflow.StateSigned
		cs.touch()
		return []event{{contractID, oneflow.EventContractSign}}, nil
	})
}

// Decline declines as a participant (0: the first signatory of a counterparty
// who has not signed, else of any party); the contract turns declined and
// contract:decline is sent.
func (s *Server) Decline(contractID, participantID int64) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if e := signable(cs); e != nil {
			return nil, e
		}
		var chosen *oneflow.Participant
		for _, ownerSide := range []bool{false, true} {
			for i := range cs.c.Parties {
				if cs.c.Parties[i].MyParty != ownerSide {
					continue
				}
				for j := range cs.c.Parties[i].Participants {
					p := &cs.c.Parties[i].Participants[j]
					match := p.ID == participantID
					if participantID == 0 {
						match = p.Signatory && p.SignState != oneflow.SignStateSigned
					}
					if match && chosen == nil {
						chosen = p
					}
				}
			}
		}
		if chosen == nil {
			return nil, notFound(fmt.Sprintf("participant %d who can decline", participantID))
		}
		chosen.SignState = oneflow.SignStateDeclined
		cs.c.State = oneflow.StateDeclined
		cs.touch()
		return []event{{contractID, oneflow.EventContractDecline}}, nil
	})
}

// ResetSignatures clears every signature of a pending contract (as when its
// content changes) and sends contract:signature_reset.
func (s *Server) ResetSignatures(contractID int64) error {
	return s.mutate(func(st *state) ([]event, error) {
		cs, e := st.contract(contractID)
		if e != nil {
			return nil, e
		}
		if e := signable(cs); e != nil {
			return nil, e
		}
		for i := range cs.c.Parties {
			for j := range cs.c.Parties[i].Participants {
				cs.c.Parties[i].Participants[j].SignState = oneflow.SignStateNotSigned
			}
		}
		cs.c.State = oneflow.StatePending
		cs.touch()
		return []event{{contractID, oneflow.EventContractSignatureReset}}, nil
	})
}

// DeleteContract deletes a contract and sends contract:delete; the API then
// answers 404 for it.
func (s *Server) DeleteContract(contractID int64) error {
	return s.mutate(func(st *state) ([]event, error) {
		if _, e := st.contract(contractID); e != nil {
			return nil, e
		}
		delete(st.contracts, contractID)
		return []event{{contractID, oneflow.EventContractDelete}}, nil
	})
}

// StateDump is everything the sandbox holds, for tests and for a person
// looking at GET /_sandbox/state.
type StateDump struct {
	Contracts     []oneflow.Contract `json:"contracts"`
	Users         []oneflow.User     `json:"users"`
	TemplateTypes []TemplateTypeDump `json:"template_types"`
	Templates     []TemplateDump     `json:"templates"`
	TokenRevoked  bool               `json:"token_revoked"`
	Webhooks      WebhookSummary     `json:"webhooks"`
}

// TemplateTypeDump is a template type with its data fields.
type TemplateTypeDump struct {
	oneflow.TemplateType
	DataFields []oneflow.TemplateTypeDataField `json:"data_fields"`
}

// TemplateDump is a template with what its contracts get.
type TemplateDump struct {
	oneflow.Template
	PreferredDeliveryChannel string   `json:"preferred_delivery_channel"`
	PreferredTwoStepMethod   string   `json:"preferred_two_step_method"`
	DataFields               []string `json:"data_fields"`
}

// WebhookSummary counts deliveries by state.
type WebhookSummary struct {
	URLConfigured bool           `json:"url_configured"`
	Paused        bool           `json:"paused"`
	Duplicates    int            `json:"duplicates"`
	ByState       map[string]int `json:"by_state"`
}

// State returns a copy of everything the sandbox holds.
func (s *Server) State() StateDump {
	s.mu.Lock()
	dump := StateDump{Users: append([]oneflow.User(nil), s.st.users...), TokenRevoked: s.revoked,
		Contracts: []oneflow.Contract{}}
	for _, cs := range s.st.sortedContracts() {
		dump.Contracts = append(dump.Contracts, cs.snapshot())
	}
	for _, tt := range s.st.templateTypes {
		d := TemplateTypeDump{TemplateType: tt.json(), DataFields: []oneflow.TemplateTypeDataField{}}
		for _, f := range tt.fields {
			d.DataFields = append(d.DataFields, oneflow.TemplateTypeDataField{ID: f.id, CustomID: f.customID, Name: f.name, Value: f.value})
		}
		dump.TemplateTypes = append(dump.TemplateTypes, d)
	}
	for _, t := range s.st.templates {
		d := TemplateDump{Template: s.templateJSON(t), PreferredDeliveryChannel: t.seed.PreferredDeliveryChannel,
			PreferredTwoStepMethod: t.seed.PreferredTwoStepMethod, DataFields: []string{}}
		if tt := s.st.templateType(t.seed.TemplateTypeID); tt != nil {
			for _, f := range tt.fields {
				if !t.exclude[f.customID] {
					d.DataFields = append(d.DataFields, f.customID)
				}
			}
		}
		dump.Templates = append(dump.Templates, d)
	}
	s.mu.Unlock()

	s.hooks.mu.Lock()
	dump.Webhooks = WebhookSummary{URLConfigured: s.hooks.url != "", Paused: s.hooks.paused,
		Duplicates: s.hooks.duplicates, ByState: map[string]int{}}
	for _, r := range s.hooks.records {
		dump.Webhooks.ByState[r.State]++
	}
	s.hooks.mu.Unlock()
	return dump
}

// sandboxRoutes serves the app actions and the knobs under /_sandbox/.
func (s *Server) sandboxRoutes() http.Handler {
	mux := http.NewServeMux()
	contractAction := func(action func(id int64, body actionBody) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id, e := pathID(r, "id")
			if e != nil {
				writeOneflowError(w, r, e)
				return
			}
			var body actionBody
			if r.ContentLength != 0 {
				if e := decodeBody(r, &body); e != nil {
					writeOneflowError(w, r, e)
					return
				}
			}
			if err := action(id, body); err != nil {
				writeErr(w, r, err)
				return
			}
			if r.Method == http.MethodDelete {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			s.writeContract(w, r, id)
		}
	}

	mux.HandleFunc("GET /_sandbox/{$}", s.handleIndex)
	mux.HandleFunc("POST /_sandbox/contracts", func(w http.ResponseWriter, r *http.Request) {
		var req CreateContractRequest
		if e := decodeBody(r, &req); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		c, err := s.CreateContract(req)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
	mux.HandleFunc("GET /_sandbox/contracts/{id}", contractAction(func(int64, actionBody) error { return nil }))
	mux.HandleFunc("PUT /_sandbox/contracts/{id}/data_fields/{custom_id}", func(w http.ResponseWriter, r *http.Request) {
		id, e := pathID(r, "id")
		if e != nil {
			writeOneflowError(w, r, e)
			return
		}
		var body struct {
			Value *string `json:"value"`
		}
		if e := decodeBody(r, &body); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		if body.Value == nil {
			writeOneflowError(w, r, invalid("value is required", map[string][]string{"value": {"is required"}}))
			return
		}
		if err := s.SetDataField(id, r.PathValue("custom_id"), *body.Value); err != nil {
			writeErr(w, r, err)
			return
		}
		s.writeContract(w, r, id)
	})
	mux.HandleFunc("PUT /_sandbox/contracts/{id}/name", contractAction(func(id int64, b actionBody) error {
		if b.Name == nil {
			return invalid("name is required", map[string][]string{"name": {"is required"}})
		}
		return s.SetContractName(id, *b.Name)
	}))
	mux.HandleFunc("POST /_sandbox/contracts/{id}/publish", contractAction(func(id int64, _ actionBody) error {
		return s.Publish(id)
	}))
	mux.HandleFunc("POST /_sandbox/contracts/{id}/sign", contractAction(func(id int64, b actionBody) error {
		if b.ParticipantID == 0 {
			return s.SignAll(id)
		}
		return s.Sign(id, b.ParticipantID)
	}))
	mux.HandleFunc("POST /_sandbox/contracts/{id}/decline", contractAction(func(id int64, b actionBody) error {
		return s.Decline(id, b.ParticipantID)
	}))
	mux.HandleFunc("POST /_sandbox/contracts/{id}/reset-signatures", contractAction(func(id int64, _ actionBody) error {
		return s.ResetSignatures(id)
	}))
	mux.HandleFunc("DELETE /_sandbox/contracts/{id}", contractAction(func(id int64, _ actionBody) error {
		return s.DeleteContract(id)
	}))

	mux.HandleFunc("GET /_sandbox/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.State())
	})
	mux.HandleFunc("POST /_sandbox/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.RequestLog())
	})
	mux.HandleFunc("DELETE /_sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		s.ClearRequestLog()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/latency", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			PathPrefix string `json:"path_prefix"`
			MS         int64  `json:"ms"`
		}
		if e := decodeBody(r, &body); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		s.SetLatency(body.PathPrefix, msDuration(body.MS))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/fail", func(w http.ResponseWriter, r *http.Request) {
		var rule FailRule
		if e := decodeBody(r, &rule); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		s.FailNext(rule)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/fail-rate", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			PathPrefix string  `json:"path_prefix"`
			Rate       float64 `json:"rate"`
			Statuses   []int   `json:"statuses"`
		}
		if e := decodeBody(r, &body); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		s.SetFailureRate(body.PathPrefix, body.Rate, body.Statuses...)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/rate-limit", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Next     *int  `json:"next"`
			Requests int   `json:"requests"`
			PerMS    int64 `json:"per_ms"`
		}
		if e := decodeBody(r, &body); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		if body.Next != nil {
			s.RateLimitNext(*body.Next)
		}
		if body.Requests > 0 {
			s.SetRateLimit(body.Requests, msDuration(body.PerMS))
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_sandbox/rate-limit", func(w http.ResponseWriter, r *http.Request) {
		s.ClearRateLimit()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/token/revoke", func(w http.ResponseWriter, r *http.Request) {
		s.RevokeToken()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/token/restore", func(w http.ResponseWriter, r *http.Request) {
		s.RestoreToken()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/pdf", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			SizeBytes int64 `json:"size_bytes"`
		}
		if e := decodeBody(r, &body); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		s.SetLargePDF(body.SizeBytes)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Deliveries())
	})
	mux.HandleFunc("POST /_sandbox/webhooks/pause", func(w http.ResponseWriter, r *http.Request) {
		s.PauseWebhooks()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/webhooks/resume", func(w http.ResponseWriter, r *http.Request) {
		s.ResumeWebhooks()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/webhooks/config", func(w http.ResponseWriter, r *http.Request) {
		var body deliveryKnobs
		if e := decodeBody(r, &body); e != nil {
			writeOneflowError(w, r, e)
			return
		}
		s.hooks.configure(body)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandbox/webhooks/wait", func(w http.ResponseWriter, r *http.Request) {
		if err := s.WaitForDeliveries(r.Context()); err != nil {
			writeOneflowError(w, r, &Error{Status: http.StatusConflict, Detail: err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeOneflowError(w, r, notFound("sandbox route "+r.Method+" "+r.URL.Path))
	})
	return mux
}

// actionBody is the optional body of an app action.
type actionBody struct {
	ParticipantID int64   `json:"participant_id"`
	Name          *string `json:"name"`
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// sandboxIndex lists the app actions and knobs for a person with curl.
var sandboxIndex = []string{
	"POST   /_sandbox/contracts                         {\"template_id\":11,\"employee_number\":\"1001\"}  create a draft (contract:create)",
	"GET    /_sandbox/contracts/{id}                    the contract as the API shows it",
	"PUT    /_sandbox/contracts/{id}/data_fields/{cid}  {\"value\":\"...\"}  change a field (data_field:update)",
	"PUT    /_sandbox/contracts/{id}/name               {\"name\":\"...\"}  rename (no webhook)",
	"POST   /_sandbox/contracts/{id}/publish            draft to pending (contract:publish)",
	"POST   /_sandbox/contracts/{id}/sign               {\"participant_id\":N} or no body for all (contract:sign when all signed)",
	"POST   /_sandbox/contracts/{id}/decline            {\"participant_id\":N} optional (contract:decline)",
	"POST   /_sandbox/contracts/{id}/reset-signatures   back to pending, unsigned (contract:signature_reset)",
	"DELETE /_sandbox/contracts/{id}                    delete (contract:delete)",
	"GET    /_sandbox/webhooks                          deliveries with attempts and statuses",
	"POST   /_sandbox/webhooks/config                   {\"url\":\"...\",\"duplicates\":3,\"duplicates_max\":10,\"jitter_ms\":50}",
	"POST   /_sandbox/webhooks/pause | /resume | /wait",
	"GET    /_sandbox/state                             contracts, users, template types, templates",
	"GET    /_sandbox/requests  (DELETE clears)         API request log",
	"POST   /_sandbox/latency                           {\"path_prefix\":\"/v1/contracts\",\"ms\":50}",
	"POST   /_sandbox/fail                              {\"path_prefix\":\"/v1/users\",\"count\":3,\"status\":503}",
	"POST   /_sandbox/fail-rate                         {\"path_prefix\":\"/v1\",\"rate\":0.3,\"statuses\":[500,502,503]} (rate 0: off)",
	"POST   /_sandbox/rate-limit                        {\"next\":5} or {\"requests\":2000,\"per_ms\":300000}; DELETE clears",
	"POST   /_sandbox/token/revoke | /token/restore",
	"POST   /_sandbox/pdf                               {\"size_bytes\":52428800}  file 1 as a padded PDF (0: normal)",
	"POST   /_sandbox/reset                             back to the seed",
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "Oneflow sandbox. Public API: %s (headers %s, %s)\n\n", s.APIURL(), oneflow.HeaderAPIToken, oneflow.HeaderUserEmail)
	for _, line := range sandboxIndex {
		b.WriteString(line + "\n")
	}
	_, _ = w.Write([]byte(b.String()))
}
