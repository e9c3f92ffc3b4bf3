// Package progress draws a progress line for long CLI work: in place on a terminal,
// one line per 10% otherwise (logs and CI stay readable).
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Bar reports n of total done.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	total    int64
	done     int64
	start    time.Time
	tty      bool
	lastDraw time.Time
	lastTick int64
}

// New starts a bar writing to w (usually os.Stderr).
func New(w io.Writer, label string, total int64) *Bar {
	b := &Bar{w: w, label: label, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

// Add records n more done.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.tty {
		if time.Since(b.lastDraw) > 100*time.Millisecond || b.done >= b.total {
			b.lastDraw = time.Now()
			fmt.Fprintf(b.w, "\r%s", b.line())
		}
		return
	}
	if b.total > 0 {
		tick := b.done * 10 / b.total
		if tick > b.lastTick {
			b.lastTick = tick
			fmt.Fprintln(b.w, b.line())
		}
	}
}

// Done finishes the line.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\n", b.line())
	}
}

func (b *Bar) line() string {
	el := time.Since(b.start)
	rate := float64(b.done) / el.Seconds()
	pct := 100.0
	if b.total > 0 {
		pct = float64(b.done) * 100 / float64(b.total)
	}
	eta := "-"
	if rate > 0 && b.total > b.done {
		eta = (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second).String()
	}
	width := 30
	filled := int(pct / 100 * float64(width))
	bar := make([]byte, width)
	for i := range bar {
		if i < filled {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	return fmt.Sprintf("%s [%s] %5.1f%% %d/%d  %.0f/s  eta %s   ", b.label, bar, pct, b.done, b.total, rate, eta)
}
