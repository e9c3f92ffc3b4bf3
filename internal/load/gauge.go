// Package load tells background maintenance when the foreground is busy, so that
// work nobody is waiting for (sealing the audit chain, refreshing search vectors)
// slows down during a burst of webhooks instead of competing with it for the CPU.
package load

import (
	"sync"
	"time"
)

// BusyRate is the number of foreground events per second from which a Gauge reports
// busy: well above a call centre's steady rate, well below a burst of redelivered
// webhooks after an outage.
const BusyRate = 100

const (
	slots = 10
	slot  = time.Second / slots
)

// Gauge counts foreground events (verified webhook deliveries) over the last second.
// The zero value is ready; a nil *Gauge counts nothing and is never busy.
type Gauge struct {
	mu    sync.Mutex
	count [slots]int64
	tick  [slots]int64 // which 100 ms tick count[i] belongs to
	now   func() time.Time
}

// NewGaugeWithClock returns a Gauge that reads the time from now (tests stop it).
func NewGaugeWithClock(now func() time.Time) *Gauge { return &Gauge{now: now} }

// Add records n events now.
func (g *Gauge) Add(n int) {
	if g == nil {
		return
	}
	t := g.ticks()
	g.mu.Lock()
	i := t % slots
	if g.tick[i] != t {
		g.tick[i], g.count[i] = t, 0
	}
	g.count[i] += int64(n)
	g.mu.Unlock()
}

// PerSecond returns the events recorded in the last second.
func (g *Gauge) PerSecond() int {
	if g == nil {
		return 0
	}
	t := g.ticks()
	g.mu.Lock()
	defer g.mu.Unlock()
	var n int64
	for i := range slots {
		if t-g.tick[i] < slots {
			n += g.count[i]
		}
	}
	return int(n)
}

// Busy reports whether the last second saw at least BusyRate events.
func (g *Gauge) Busy() bool { return g.PerSecond() >= BusyRate }

func (g *Gauge) ticks() int64 {
	now := time.Now
	if g.now != nil {
		now = g.now
	}
	return now().UnixNano() / int64(slot)
}
