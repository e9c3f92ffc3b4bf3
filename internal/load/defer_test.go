package load

import (
	"testing"
	"time"
)

// TestDeferralStepsAsideAtMostMax: while busy a loop skips its rounds, but runs one
// every max; when idle it always runs.
func TestDeferralStepsAsideAtMostMax(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	busy := false
	d := NewDeferral(func() bool { return busy }, 30*time.Second)
	d.now = func() time.Time { return now }
	step := func(dt time.Duration) { now = now.Add(dt) }

	if d.Skip() {
		t.Fatal("idle: the round was skipped")
	}
	busy = true
	var ran []time.Duration
	start := now
	for range 100 { // 100 s of a burst, a round a second
		step(time.Second)
		if !d.Skip() {
			ran = append(ran, now.Sub(start))
		}
	}
	if len(ran) != 3 || ran[0] != 30*time.Second || ran[1] != 60*time.Second || ran[2] != 90*time.Second {
		t.Errorf("rounds during a 100 s burst ran at %v, want 30s 60s 1m30s", ran)
	}
	busy = false
	step(time.Second)
	if d.Skip() {
		t.Error("after the burst: the round was skipped")
	}
}

func TestDeferralWithoutBusyNeverSkips(t *testing.T) {
	d := NewDeferral(nil, 0)
	for range 3 {
		if d.Skip() {
			t.Fatal("skipped without a busy function")
		}
	}
	if d.max != DefaultMaxDefer {
		t.Errorf("max %s, want the default %s", d.max, DefaultMaxDefer)
	}
}
