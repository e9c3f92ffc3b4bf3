package load

import "time"

// DefaultMaxDefer is the longest a background loop steps aside for a burst before it
// runs one round anyway: long enough that a burst of webhooks has the CPU to itself
// (the 1,000/s comparison in BENCHMARKS.md runs 10 s), short enough that a flood that
// never ends delays the audit seal and search vectors by half a minute instead of
// stopping them. (Job dispatch does not use it: alerts must not wait for a burst.)
const DefaultMaxDefer = 30 * time.Second

// Deferral tells a background loop, round by round, whether to step aside: while
// busy reports true it skips rounds, but never for longer than max since the last
// round it ran. One loop owns a Deferral; it is not safe for concurrent use.
type Deferral struct {
	busy func() bool
	max  time.Duration
	now  func() time.Time
	last time.Time
}

// NewDeferral returns a Deferral over busy (nil: never busy); max <= 0 means
// DefaultMaxDefer.
func NewDeferral(busy func() bool, max time.Duration) *Deferral {
	if max <= 0 {
		max = DefaultMaxDefer
	}
	return &Deferral{busy: busy, max: max, now: time.Now}
}

// Skip reports whether to skip this round. When it returns false the caller runs
// the round now (busy or not; while busy, a small one).
func (d *Deferral) Skip() bool {
	now := d.now()
	if d.busy == nil || !d.busy() {
		d.last = now
		return false
	}
	if d.last.IsZero() { // busy from the first round: the wait starts now
		d.last = now
	}
	if now.Sub(d.last) < d.max {
		return true
	}
	d.last = now
	return false
}
