package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

// knobs are the test switches; Server.mu guards them.
type knobs struct {
	latency   time.Duration
	failRules []FailRule
	failRate  FailRate
	rate      RateLimit
	tokens    float64
	last      time.Time
	revoked   bool
}

// inject answers instead of the model when a knob says so, and names the
// knob; "" lets the request through.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, rel, pathID string) string {
	s.mu.Lock()
	var (
		injected   string
		status     int
		retryAfter int
	)
	if wait, limited := s.takeToken(); limited {
		injected, status = "rate-limit", http.StatusTooManyRequests
		retryAfter = s.knobs.rate.RetryAfterSeconds
		if retryAfter <= 0 {
			retryAfter = max(1, int(math.Ceil(wait.Seconds())))
		}
	}
	if injected == "" {
		for i := range s.knobs.failRules {
			rule := &s.knobs.failRules[i]
			if rule.Count > 0 && matches(rule.PathID, rule.Path, rule.Method, r.Method, rel, pathID) {
				rule.Count--
				injected, status, retryAfter = "fail-next", rule.Status, rule.RetryAfterSeconds
				break
			}
		}
		s.knobs.failRules = removeSpent(s.knobs.failRules)
	}
	if fr := s.knobs.failRate; injected == "" && fr.Ratio > 0 && len(fr.Statuses) > 0 &&
		matches(fr.PathID, fr.Path, fr.Method, r.Method, rel, pathID) && rand.Float64() < fr.Ratio {
		injected, status = "fail-rate", fr.Statuses[rand.IntN(len(fr.Statuses))]
	}
	s.mu.Unlock()
	if injected == "" {
		return ""
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeError(w, r, status, codeFor(status), "Injected by the sandbox ("+injected+").", nil)
	return injected
}

func matches(wantID, wantPath, wantMethod, method, rel, pathID string) bool {
	return (wantID == "" || strings.EqualFold(wantID, pathID)) &&
		(wantPath == "" || strings.HasPrefix(rel, wantPath)) &&
		(wantMethod == "" || strings.EqualFold(wantMethod, method))
}

func removeSpent(rules []FailRule) []FailRule {
	out := rules[:0]
	for _, r := range rules {
		if r.Count > 0 {
			out = append(out, r)
		}
	}
	return out
}

// takeToken is the rate limit's token bucket; called with s.mu held.
func (s *Server) takeToken() (time.Duration, bool) {
	rl := s.knobs.rate
	if rl.RequestsPerSecond <= 0 {
		return 0, false
	}
	now := s.opts.now()
	burst := float64(rl.Burst)
	if burst <= 0 {
		burst = math.Max(1, rl.RequestsPerSecond)
	}
	if s.knobs.last.IsZero() {
		s.knobs.tokens = burst
	} else {
		s.knobs.tokens = math.Min(burst, s.knobs.tokens+now.Sub(s.knobs.last).Seconds()*rl.RequestsPerSecond)
	}
	s.knobs.last = now
	if s.knobs.tokens >= 1 {
		s.knobs.tokens--
		return 0, false
	}
	return time.Duration((1 - s.knobs.tokens) / rl.RequestsPerSecond * float64(time.Second)), true
}

// SetLatency delays every API answer by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.latency = max(0, d)
}

// FailNext makes the next rule.Count matching API requests fail with
// rule.Status. Rules queue; the first matching one answers.
func (s *Server) FailNext(rule FailRule) error {
	if rule.Count < 1 || rule.Status < 400 || rule.Status > 599 {
		return errors.New("sandbox: fail-next needs count ≥ 1 and a 4xx/5xx status")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.failRules = append(s.knobs.failRules, rule)
	return nil
}

// SetFailRate makes a fraction of matching API requests fail (Ratio 0: off).
func (s *Server) SetFailRate(fr FailRate) error {
	if fr.Ratio < 0 || fr.Ratio > 1 {
		return errors.New("sandbox: fail-rate ratio must be within 0..1")
	}
	for _, st := range fr.Statuses {
		if st < 400 || st > 599 {
			return errors.New("sandbox: fail-rate statuses must be 4xx/5xx")
		}
	}
	if fr.Ratio > 0 && len(fr.Statuses) == 0 {
		return errors.New("sandbox: fail-rate needs at least one status")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.failRate = fr
	return nil
}

// SetRateLimit limits API requests; RequestsPerSecond 0 turns it off.
func (s *Server) SetRateLimit(rl RateLimit) error {
	if rl.RequestsPerSecond < 0 || rl.Burst < 0 || rl.RetryAfterSeconds < 0 {
		return errors.New("sandbox: rate limit values must not be negative")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.rate = rl
	s.knobs.last = time.Time{}
	return nil
}

// SetCredentialsRevoked makes every API call answer 401 (true) or accepts the
// seed's credentials again (false), to simulate credentials revoked mid-run.
func (s *Server) SetCredentialsRevoked(revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.revoked = revoked
}

// Requests is the log of API requests served, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.requests...)
}

// ClearRequests empties the request log.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// State copies everything stored.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.snapshot()
}

// DocumentContent returns an uploaded document's bytes (WithDocumentContent only).
func (s *Server) DocumentContent(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.st.contents[id]
	return append([]byte(nil), b...), ok
}

// Reset restores the seed and clears every knob and the request log.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = newStore(s.seed)
	s.knobs = knobs{}
	s.requests = nil
}

// AddDocumentCategory adds a category (an empty ID gets a new one), e.g. to
// replay an upload after an admin created the Oneflow category.
func (s *Server) AddDocumentCategory(c DocumentCategory) (DocumentCategory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	if !isUUID(c.ID) || strings.TrimSpace(c.Name) == "" {
		return DocumentCategory{}, errors.New("sandbox: a category needs a UUID id and a name")
	}
	if _, status := s.st.company(c.CompanyID); status == http.StatusNotFound {
		return DocumentCategory{}, errors.New("sandbox: unknown company")
	}
	if _, exists := s.st.category(c.ID); exists {
		return DocumentCategory{}, errors.New("sandbox: category id already used")
	}
	s.st.categories = append(s.st.categories, c)
	return c, nil
}

// RemoveDocumentCategory deletes a category.
func (s *Server) RemoveDocumentCategory(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.st.categories {
		if strings.EqualFold(c.ID, id) {
			s.st.categories = append(s.st.categories[:i], s.st.categories[i+1:]...)
			return nil
		}
	}
	return errors.New("sandbox: no such category")
}

// AddEmployee adds an employee (an empty ID gets a new one), e.g. to load
// many for a burst test. Its national ID must be valid and its employment
// number unused in its company.
func (s *Server) AddEmployee(e Employee) (Employee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if !isUUID(e.ID) {
		return Employee{}, errors.New("sandbox: employee id must be a UUID")
	}
	if _, status := s.st.employee(e.ID); status != http.StatusNotFound {
		return Employee{}, errors.New("sandbox: employee id already used")
	}
	if _, status := s.st.company(e.CompanyID); status == http.StatusNotFound {
		return Employee{}, errors.New("sandbox: unknown company")
	}
	if n := str(e.NationalIdentificationNumber); n != "" {
		if err := flexhrm.ValidatePersonnummer(n); err != nil {
			return Employee{}, fmt.Errorf("sandbox: %w", err)
		}
	}
	if m := str(e.ImmediateManagerEmployeeID); m != "" {
		if _, status := s.st.employee(m); status == http.StatusNotFound {
			return Employee{}, errors.New("sandbox: unknown manager")
		}
	}
	for _, emp := range e.Employment {
		for _, other := range s.st.employees {
			if strings.EqualFold(other.CompanyID, e.CompanyID) && other.hasNumber(emp.EmploymentNumber) {
				return Employee{}, errors.New("sandbox: employment number already used in the company")
			}
		}
	}
	e = copyEmployee(e)
	e.InstanceID = s.st.instanceID
	e.Name = fullName(e)
	s.st.employees = append(s.st.employees, &e)
	return copyEmployee(e), nil
}

func (e *Employee) hasNumber(n string) bool {
	for _, emp := range e.Employment {
		if emp.EmploymentNumber == n {
			return true
		}
	}
	return false
}

// serveKnobs is the HTTP face of the knobs, under /_sandbox/ (no auth).
func (s *Server) serveKnobs(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_sandbox"), "/")
	fail := func(err error) { writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()}) }
	decode := func(v any) bool {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			fail(fmt.Errorf("sandbox: body: %w", err))
			return false
		}
		return true
	}
	route := r.Method + " " + path
	switch {
	case route == "GET ":
		writeJSON(w, http.StatusOK, map[string]any{"apiRoot": "/api", "knobs": []string{
			"POST /_sandbox/latency {milliseconds}",
			"POST /_sandbox/fail-next {pathId|path, method, count, status, retryAfterSeconds}",
			"POST /_sandbox/fail-rate {pathId|path, method, ratio, statuses}",
			"POST /_sandbox/rate-limit {requestsPerSecond, burst, retryAfterSeconds}",
			"GET|DELETE /_sandbox/requests", "GET /_sandbox/state", "POST /_sandbox/reset",
			"POST /_sandbox/categories {companyId, name, usedInEmploymentRegister}", "DELETE /_sandbox/categories/{id}",
			"POST /_sandbox/employees {employee}", "GET|POST /_sandbox/credentials {revoked}",
		}})
	case route == "POST /latency":
		var body struct {
			Milliseconds int `json:"milliseconds"`
		}
		if decode(&body) {
			s.SetLatency(time.Duration(body.Milliseconds) * time.Millisecond)
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "POST /fail-next":
		var rule FailRule
		if decode(&rule) {
			if err := s.FailNext(rule); err != nil {
				fail(err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "POST /fail-rate":
		var fr FailRate
		if decode(&fr) {
			if err := s.SetFailRate(fr); err != nil {
				fail(err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "POST /rate-limit":
		var rl RateLimit
		if decode(&rl) {
			if err := s.SetRateLimit(rl); err != nil {
				fail(err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "GET /requests":
		reqs := s.Requests()
		if since, err := strconv.Atoi(r.URL.Query().Get("since")); err == nil {
			out := reqs[:0]
			for _, rec := range reqs {
				if rec.Seq > since {
					out = append(out, rec)
				}
			}
			reqs = out
		}
		if reqs == nil {
			reqs = []RequestRecord{}
		}
		writeJSON(w, http.StatusOK, reqs)
	case route == "DELETE /requests":
		s.ClearRequests()
		w.WriteHeader(http.StatusNoContent)
	case route == "GET /state":
		writeJSON(w, http.StatusOK, s.State())
	case route == "POST /reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case route == "POST /categories":
		var c DocumentCategory
		if decode(&c) {
			added, err := s.AddDocumentCategory(c)
			if err != nil {
				fail(err)
				return
			}
			writeJSON(w, http.StatusCreated, added)
		}
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/categories/"):
		if err := s.RemoveDocumentCategory(strings.TrimPrefix(path, "/categories/")); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case route == "POST /employees":
		var e Employee
		if decode(&e) {
			added, err := s.AddEmployee(e)
			if err != nil {
				fail(err)
				return
			}
			writeJSON(w, http.StatusCreated, added)
		}
	case route == "GET /credentials":
		s.mu.Lock()
		revoked := s.knobs.revoked
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"credentials": s.Credentials(), "revoked": revoked})
	case route == "POST /credentials":
		var body struct {
			Revoked bool `json:"revoked"`
		}
		if decode(&body) {
			s.SetCredentialsRevoked(body.Revoked)
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such sandbox knob; GET /_sandbox/ lists them"})
	}
}
