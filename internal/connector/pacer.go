package connector

import (
	"context"
	"sync"
	"time"
)

// Pacer spaces requests to a steady rate with a small burst allowance, so a burst of
// work (a thousand calls arriving at once) reaches a provider at the rate it allows
// instead of as a wall of 429s. A nil *Pacer does not pace. Safe for concurrent use.
type Pacer struct {
	mu    sync.Mutex
	every time.Duration
	burst time.Duration
	next  time.Time // when the next request may go
}

// NewPacer paces to perSecond requests a second, letting up to burst go at once
// after a quiet spell; perSecond ≤ 0 returns nil (no pacing).
func NewPacer(perSecond float64, burst int) *Pacer {
	if perSecond <= 0 {
		return nil
	}
	every := time.Duration(float64(time.Second) / perSecond)
	return &Pacer{every: every, burst: time.Duration(max(burst, 1)-1) * every}
}

// Wait blocks until the caller may send, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	if earliest := now.Add(-p.burst); p.next.Before(earliest) {
		p.next = earliest
	}
	at := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
