package sandbox

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// knobs are the test controls; guarded by Server.mu.
type knobs struct {
	// latency by path prefix ("" = every API call); the longest prefix wins.
	latency  map[string]time.Duration
	failures []*FailRule
	// failRate fails a share of matching calls at random.
	failRate struct {
		prefix   string
		rate     float64
		statuses []int
	}
	// rateNext refuses the next N authenticated API calls with 429.
	rateNext int
	// rateLimit refuses calls beyond requests per window (0 = off).
	rateLimit struct {
		requests int
		per      time.Duration
		start    time.Time
		count    int
	}
}

// FailRule makes the next Count API calls matching Method (empty: any) and
// Path (exact) or PathPrefix fail with Status and Oneflow's error body, before
// authentication, like a failing proxy or server would.
type FailRule struct {
	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"`
	PathPrefix string `json:"path_prefix,omitempty"`
	Count      int    `json:"count"`
	Status     int    `json:"status"`
}

func (r *FailRule) matches(method, path string) bool {
	if r.Method != "" && !strings.EqualFold(r.Method, method) {
		return false
	}
	if r.Path != "" {
		return r.Path == path
	}
	return strings.HasPrefix(path, r.PathPrefix)
}

// SetLatency delays every API call whose path starts with pathPrefix ("" for
// all) by d; d = 0 removes the delay.
func (s *Server) SetLatency(pathPrefix string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.knobs.latency == nil {
		s.knobs.latency = map[string]time.Duration{}
	}
	if d <= 0 {
		delete(s.knobs.latency, pathPrefix)
		return
	}
	s.knobs.latency[pathPrefix] = d
}

func (s *Server) latencyFor(path string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, bestLen := time.Duration(0), -1
	for prefix, d := range s.knobs.latency {
		if strings.HasPrefix(path, prefix) && len(prefix) > bestLen {
			best, bestLen = d, len(prefix)
		}
	}
	return best
}

// FailNext adds a failure rule; rules are consumed in the order added. A
// Status outside 400..599 is taken as 500, a Count below 1 as 1.
func (s *Server) FailNext(rule FailRule) {
	if rule.Status < 400 || rule.Status > 599 {
		rule.Status = http.StatusInternalServerError
	}
	if rule.Count < 1 {
		rule.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.failures = append(s.knobs.failures, &rule)
}

// SetFailureRate fails the given share (0..1) of API calls whose path starts
// with pathPrefix, each with one of statuses picked at random (default 500,
// 502, 503), like a flaky upstream; rate 0 turns it off.
func (s *Server) SetFailureRate(pathPrefix string, rate float64, statuses ...int) {
	if len(statuses) == 0 {
		statuses = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.failRate.prefix = pathPrefix
	s.knobs.failRate.rate = min(max(rate, 0), 1)
	s.knobs.failRate.statuses = append([]int(nil), statuses...)
}

func (s *Server) takeFailure(method, path string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fr := s.knobs.failRate; fr.rate > 0 && strings.HasPrefix(path, fr.prefix) && rand.Float64() < fr.rate {
		return fr.statuses[rand.IntN(len(fr.statuses))], true
	}
	for i, rule := range s.knobs.failures {
		if !rule.matches(method, path) {
			continue
		}
		rule.Count--
		if rule.Count <= 0 {
			s.knobs.failures = append(s.knobs.failures[:i], s.knobs.failures[i+1:]...)
		}
		return rule.Status, true
	}
	return 0, false
}

// RateLimitNext answers the next n authenticated API calls with 429 (error
// code 4290000, no Retry-After), as Oneflow does past its limit.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.rateNext = max(n, 0)
}

// SetRateLimit allows at most requests API calls per window (fixed windows,
// like Oneflow's 2000 per 5 minutes); requests <= 0 turns it off.
func (s *Server) SetRateLimit(requests int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.rateLimit.requests = max(requests, 0)
	s.knobs.rateLimit.per = per
	s.knobs.rateLimit.start = time.Now()
	s.knobs.rateLimit.count = 0
}

// ClearRateLimit turns off both rate-limit knobs.
func (s *Server) ClearRateLimit() {
	s.RateLimitNext(0)
	s.SetRateLimit(0, 0)
}

func (s *Server) takeRateLimit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.knobs.rateNext > 0 {
		s.knobs.rateNext--
		return true
	}
	rl := &s.knobs.rateLimit
	if rl.requests <= 0 || rl.per <= 0 {
		return false
	}
	if now := time.Now(); now.Sub(rl.start) >= rl.per {
		rl.start, rl.count = now, 0
	}
	if rl.count >= rl.requests {
		return true
	}
	rl.count++
	return false
}

// RevokeToken makes every API call answer 401 until RestoreToken, as when an
// admin deletes the token in Oneflow.
func (s *Server) RevokeToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// RestoreToken undoes RevokeToken.
func (s *Server) RestoreToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = false
}

// SetLargePDF makes file 1 a valid PDF of exactly n bytes (0: the normal
// small PDF).
func (s *Server) SetLargePDF(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.largePDF = max(n, 0)
}

// Reset returns the sandbox to its seed: contracts, template types, users,
// knobs, request log, storage keys and webhook records; deliveries under way
// are cancelled. Webhook URL, duplicates and pause state stay as configured.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newState(s.seed)
	s.knobs = knobs{}
	s.revoked = false
	s.reqLog = nil
	s.storage = map[string]storageEntry{}
	s.mu.Unlock()
	s.hooks.reset()
}
