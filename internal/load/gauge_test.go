package load

import (
	"testing"
	"time"
)

func TestGaugeCountsTheLastSecond(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	g := &Gauge{now: func() time.Time { return at }}
	if g.Busy() || g.PerSecond() != 0 {
		t.Fatalf("a new gauge: %d/s, busy %v", g.PerSecond(), g.Busy())
	}
	for range 60 {
		g.Add(1)
		at = at.Add(10 * time.Millisecond) // 100/s for 0.6 s
	}
	if got := g.PerSecond(); got != 60 {
		t.Errorf("after 60 events in 0.6 s: %d/s, want 60", got)
	}
	for range 200 {
		g.Add(1)
		at = at.Add(5 * time.Millisecond) // then 200/s for 1 s
	}
	// The window is the current 100 ms slot and the nine before it: 0.9 to 1 s.
	if got := g.PerSecond(); got < 180 || got > 200 || !g.Busy() {
		t.Errorf("at 200/s: %d/s busy %v, want 180 to 200 and busy", got, g.Busy())
	}
	at = at.Add(1500 * time.Millisecond)
	if got := g.PerSecond(); got != 0 || g.Busy() {
		t.Errorf("1.5 s after the last event: %d/s busy %v, want 0 and idle", got, g.Busy())
	}
	// A slot reused a second later starts again from zero.
	g.Add(3)
	if got := g.PerSecond(); got != 3 {
		t.Errorf("after a quiet second and 3 events: %d/s, want 3", got)
	}
}

func TestNilGaugeIsNeverBusy(t *testing.T) {
	var g *Gauge
	g.Add(1000)
	if g.Busy() || g.PerSecond() != 0 {
		t.Error("a nil gauge counted")
	}
}
