package connector

import (
	"context"
	"testing"
	"time"
)

func TestPacerSpacesRequestsAfterItsBurst(t *testing.T) {
	p := NewPacer(200, 5) // 5 ms apart, 5 at once
	ctx := context.Background()
	start := time.Now()
	for range 25 {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// 5 immediately, then 20 more at 5 ms: at least 95 ms. (A lower bound only: a
	// slow machine makes it longer, never shorter.)
	if took := time.Since(start); took < 95*time.Millisecond {
		t.Errorf("25 requests at 200/s with a burst of 5 took %s, want ≥ 95ms", took)
	}
}

func TestPacerStopsWaitingWhenTheContextEnds(t *testing.T) {
	p := NewPacer(1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Wait(ctx); err != nil { // the burst
		t.Fatal(err)
	}
	cancel()
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait returned nil for a cancelled context with no token available")
	}
	if NewPacer(0, 10) != nil || (*Pacer)(nil).Wait(ctx) != nil {
		t.Fatal("a zero rate must mean no pacing")
	}
}
