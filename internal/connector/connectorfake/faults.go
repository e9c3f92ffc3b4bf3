// Package connectorfake holds what every stateful connector fake shares: fault
// injection (failures with Retry-After, delays, replies lost after the effect).
// A fake embeds Faults, which gives it FailNext, Delay and LoseReply.
package connectorfake

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults is the fault-injection state of one fake.
type Faults struct {
	mu         sync.Mutex
	failN      int
	failStatus int
	retryAfter time.Duration
	delay      time.Duration
	loseN      int
}

// FailNext makes the next n requests fail with status (and a Retry-After header when
// retryAfter > 0) before they have any effect.
func (fs *Faults) FailNext(n, status int, retryAfter time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.failN, fs.failStatus, fs.retryAfter = n, status, retryAfter
}

// Delay holds every request for d before handling it (0 turns it off). A client with
// a shorter timeout gives up and nothing happens at the fake.
func (fs *Faults) Delay(d time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.delay = d
}

// LoseReply makes the next n effectful requests take effect and then drop the
// connection without answering: the crash-between-call-and-marker case.
func (fs *Faults) LoseReply(n int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.loseN = n
}

// Before applies Delay and FailNext (answering through fail); it reports whether the
// request may go on.
func (fs *Faults) Before(w http.ResponseWriter, r *http.Request, fail func(w http.ResponseWriter, status int)) bool {
	fs.mu.Lock()
	delay := fs.delay
	fs.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	fs.mu.Lock()
	if fs.failN <= 0 {
		fs.mu.Unlock()
		return true
	}
	fs.failN--
	status, ra := fs.failStatus, fs.retryAfter
	fs.mu.Unlock()
	if ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
	}
	fail(w, status)
	return false
}

// DropReply reports whether to drop this reply (LoseReply), and drops the connection
// if so.
func (fs *Faults) DropReply(w http.ResponseWriter) bool {
	fs.mu.Lock()
	if fs.loseN <= 0 {
		fs.mu.Unlock()
		return false
	}
	fs.loseN--
	fs.mu.Unlock()
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return true
		}
	}
	panic(http.ErrAbortHandler)
}
