// Package dialnexafake is an in-memory DialNexa API for tests and the dev
// sandbox: GET /v1/calls/{id} with bearer key_id:secret auth, DialNexa's
// error body {statusCode, message, error}, and injectable faults.
package dialnexafake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Test credentials a new fake accepts.
const (
	TestKeyID  = "key_test_0001"
	TestSecret = "dn-secret-test-0001"
)

// Fake holds the state. Create it with New or NewUnstarted.
type Fake struct {
	URL string

	srv     *httptest.Server
	handler http.Handler

	mu       sync.Mutex
	auth     string
	calls    map[string]json.RawMessage
	faults   []fault
	delay    time.Duration
	requests int
}

type fault struct {
	status     int
	retryAfter time.Duration
}

// New starts the fake on a loopback httptest.Server. Call Close when done.
func New() *Fake {
	f := NewUnstarted()
	f.srv = httptest.NewServer(f.handler)
	f.URL = f.srv.URL
	return f
}

// NewUnstarted returns a fake to mount with Handler.
func NewUnstarted() *Fake {
	f := &Fake{auth: "Bearer " + TestKeyID + ":" + TestSecret, calls: map[string]json.RawMessage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/calls/{id}", f.getCall)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
	})
	f.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, mux) })
	return f
}

// Handler serves the fake's API.
func (f *Fake) Handler() http.Handler { return f.handler }

// Close stops the server, if New started one.
func (f *Fake) Close() {
	if f.srv != nil {
		f.srv.Close()
	}
}

// AddCall seeds a call body, served as is.
func (f *Fake) AddCall(id string, body json.RawMessage) {
	f.mu.Lock()
	f.calls[id] = body
	f.mu.Unlock()
}

// FailNext makes the next n requests answer status with DialNexa's error body.
func (f *Fake) FailNext(n, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status, retryAfter})
	}
}

// Delay holds every later answer for d.
func (f *Fake) Delay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// RequestCount is the number of requests received.
func (f *Fake) RequestCount() int { f.mu.Lock(); defer f.mu.Unlock(); return f.requests }

func (f *Fake) serve(w http.ResponseWriter, r *http.Request, mux http.Handler) {
	f.mu.Lock()
	f.requests++
	auth, delay := f.auth, f.delay
	var ft *fault
	if len(f.faults) > 0 {
		ft = &f.faults[0]
		f.faults = f.faults[1:]
	}
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case r.Header.Get("Authorization") != auth:
		writeError(w, http.StatusUnauthorized, "Invalid API key")
	case ft != nil:
		if ft.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(ft.retryAfter/time.Second)))
		}
		writeError(w, ft.status, http.StatusText(ft.status))
	default:
		mux.ServeHTTP(w, r)
	}
}

func (f *Fake) getCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	body, ok := f.calls[id]
	f.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Call "+id+" not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// writeError writes {statusCode, message, error} as DialNexa (NestJS) does.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": msg, "error": http.StatusText(status)})
}
