// Package tmfake is an in-memory Token Metrics API for tests and the dev
// sandbox: GET /tokens and GET /price with the real envelope, UPPER_SNAKE
// keys, x-api-key auth, and injectable faults.
package tmfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TestKey is the key a new fake accepts.
const TestKey = "tm-test-key-0001"

// Token seeds a token with its current price as decimal text.
type Token struct {
	ID     int64
	Symbol string
	Name   string
	Price  string
}

// Fake holds the state. Create it with New or NewUnstarted.
type Fake struct {
	URL string

	srv     *httptest.Server
	handler http.Handler

	mu         sync.Mutex
	key        string
	tokens     []Token
	faults     []fault
	delay      time.Duration
	stringIDs  bool
	stringNums bool
	requests   int
}

type fault struct {
	status     int
	retryAfter time.Duration
	unsuccess  bool
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
	f := &Fake{key: TestKey}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tokens", f.listTokens)
	mux.HandleFunc("GET /price", f.price)
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

// AddToken seeds a token.
func (f *Fake) AddToken(t Token) { f.mu.Lock(); f.tokens = append(f.tokens, t); f.mu.Unlock() }

// StringValues makes the fake send TOKEN_ID and CURRENT_PRICE as JSON strings,
// which the real API has been seen to do.
func (f *Fake) StringValues(on bool) { f.mu.Lock(); f.stringIDs, f.stringNums = on, on; f.mu.Unlock() }

// FailNext makes the next n requests answer status (with Retry-After when
// retryAfter > 0). Status 200 answers {"success": false}.
func (f *Fake) FailNext(n, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, retryAfter: retryAfter, unsuccess: status == http.StatusOK})
	}
}

// Delay holds every later answer for d.
func (f *Fake) Delay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// RequestCount is the number of requests received.
func (f *Fake) RequestCount() int { f.mu.Lock(); defer f.mu.Unlock(); return f.requests }

func (f *Fake) serve(w http.ResponseWriter, r *http.Request, mux http.Handler) {
	f.mu.Lock()
	f.requests++
	key, delay := f.key, f.delay
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
	case r.Header.Get("x-api-key") != key:
		writeEnvelope(w, http.StatusUnauthorized, false, "Invalid API key", nil)
	case ft != nil && ft.unsuccess:
		writeEnvelope(w, http.StatusOK, false, "Something went wrong", nil)
	case ft != nil:
		if ft.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(ft.retryAfter/time.Second)))
		}
		msg := http.StatusText(ft.status)
		if ft.status == http.StatusTooManyRequests {
			msg = "API rate limit exceeded"
		}
		writeEnvelope(w, ft.status, false, msg, nil)
	default:
		mux.ServeHTTP(w, r)
	}
}

func (f *Fake) listTokens(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	data := []map[string]any{}
	for _, t := range f.tokens {
		if s := q.Get("symbol"); s != "" && !inList(s, t.Symbol) {
			continue
		}
		if n := q.Get("token_name"); n != "" && !inList(n, t.Name) {
			continue
		}
		data = append(data, map[string]any{"TOKEN_ID": f.id(t.ID), "TOKEN_NAME": t.Name, "TOKEN_SYMBOL": t.Symbol})
	}
	writeEnvelope(w, http.StatusOK, true, "Data fetched successfully", data)
}

func (f *Fake) price(w http.ResponseWriter, r *http.Request) {
	ids := r.URL.Query().Get("token_id")
	if ids == "" {
		writeEnvelope(w, http.StatusBadRequest, false, "token_id is required", nil)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data := []map[string]any{}
	for _, t := range f.tokens {
		if !inList(ids, strconv.FormatInt(t.ID, 10)) {
			continue
		}
		var price any = json.Number(t.Price)
		if f.stringNums {
			price = t.Price
		}
		data = append(data, map[string]any{"TOKEN_ID": f.id(t.ID), "TOKEN_NAME": t.Name, "TOKEN_SYMBOL": t.Symbol,
			"CURRENT_PRICE": price})
	}
	writeEnvelope(w, http.StatusOK, true, "Data fetched successfully", data)
}

func (f *Fake) id(id int64) any {
	if f.stringIDs {
		return strconv.FormatInt(id, 10)
	}
	return id
}

// inList matches v against a comma-separated query value, ignoring case.
func inList(list, v string) bool {
	for item := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(item), v) {
			return true
		}
	}
	return false
}

func writeEnvelope(w http.ResponseWriter, status int, ok bool, msg string, data []map[string]any) {
	if data == nil {
		data = []map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"success": ok, "message": msg, "length": len(data), "data": data})
}
