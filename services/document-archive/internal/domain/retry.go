package domain

import "time"

// RetryPolicy says how long transient upstream failures (5xx, 429, timeouts,
// network) are retried: delays start at Initial and double up to Max, and
// the job is given up once Budget has passed since its first attempt. The
// default budget outlasts Oneflow's own two-hour resend schedule.
type RetryPolicy struct {
	Initial time.Duration
	Max     time.Duration
	Budget  time.Duration
}

// DefaultRetryPolicy is the production policy shared with contract-sync:
// about 19 attempts spread over at least two hours.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Initial: 5 * time.Second, Max: 10 * time.Minute, Budget: 2 * time.Hour}
}

// Delay is the wait before the next attempt after attempt number attempt
// (1-based) failed. It grows exponentially from Initial and never exceeds
// Max; it is never shorter than Initial.
func (p RetryPolicy) Delay(attempt int) time.Duration {
	d := p.Initial
	if d <= 0 {
		d = time.Second
	}
	for i := 1; i < attempt; i++ {
		if p.Max > 0 && d >= p.Max/2 {
			return p.Max
		}
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		return p.Max
	}
	return d
}

// Exhausted reports whether a job first tried at firstTry has used its
// budget by now. Attempts go on until the budget has passed, so the retried
// span is at least Budget and at most Budget plus one Max delay.
func (p RetryPolicy) Exhausted(firstTry, now time.Time) bool {
	return now.Sub(firstTry) >= p.Budget
}
