// Package stripefake is a stateful, in-memory Stripe API for tests and the
// dev sandbox. It speaks the real paths, form encoding, idempotency rules and
// error bodies for the endpoints Countersign uses, and it can inject faults.
// It is not a general Stripe emulator: it checks only what those endpoints
// need.
package stripefake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// TestKey is the key a new fake accepts.
const TestKey = "sk_test_countersign_fake_key_0001"

// Request is one request the fake received.
type Request struct {
	Method, Path, RawQuery string
	IdempotencyKey         string
	Form                   url.Values // body form for POST, query for GET
	Status                 int        // status answered
}

// Fake holds the state. Its zero value is not usable: call New or NewUnstarted.
type Fake struct {
	URL      string // base URL of the started API server; "" for NewUnstarted
	FilesURL string // base URL of the started files server (files.stripe.com)

	srv, filesSrv *httptest.Server
	handler       http.Handler
	filesHandler  http.Handler

	mu           sync.Mutex
	key          string
	seq          int
	charges      map[string]*Charge
	intents      map[string]*PaymentIntent
	invoices     map[string]*Invoice
	customers    map[string]*Customer
	subs         map[string]*Subscription
	disputes     map[string]*Dispute
	refunds      []*Refund
	creditNotes  []*CreditNote
	files        []*File
	idem         map[string]*idemEntry
	inflight     map[string]bool
	faults       []fault
	delay        time.Duration
	refundStatus string
	reqs         []Request
	payBase      string // scheme and host the fake was last reached at: where its documents are served
}

type idemEntry struct {
	hash   string
	status int
	body   []byte
}

type fault struct {
	status      int
	code        string
	retryAfter  time.Duration
	shouldRetry string // Stripe-Should-Retry header value; "" sends none
	started     bool   // the endpoint started executing: the answer is stored for the key
}

// New starts the fake on a loopback httptest.Server. Call Close when done.
func New() *Fake {
	f := NewUnstarted()
	f.srv = httptest.NewServer(f.handler)
	f.URL = f.srv.URL
	f.filesSrv = httptest.NewServer(f.filesHandler)
	f.FilesURL = f.filesSrv.URL
	return f
}

// NewUnstarted returns a fake without a server, for mounting Handler on a
// listener of your own (the dev sandbox binds it to loopback).
func NewUnstarted() *Fake {
	f := &Fake{
		key: TestKey, charges: map[string]*Charge{}, intents: map[string]*PaymentIntent{},
		invoices: map[string]*Invoice{}, customers: map[string]*Customer{}, subs: map[string]*Subscription{},
		disputes: map[string]*Dispute{}, idem: map[string]*idemEntry{}, inflight: map[string]bool{},
		refundStatus: "succeeded",
	}
	f.handler = f.routes()
	f.filesHandler = f.filesRoutes()
	return f
}

// Handler serves the fake's API (api.stripe.com).
func (f *Fake) Handler() http.Handler { return f.handler }

// FilesHandler serves the fake's upload host (files.stripe.com).
func (f *Fake) FilesHandler() http.Handler { return f.filesHandler }

// Close stops the servers, if New started them.
func (f *Fake) Close() {
	if f.srv != nil {
		f.srv.Close()
		f.filesSrv.Close()
	}
}

// SetKey changes the API key the fake accepts.
func (f *Fake) SetKey(key string) { f.mu.Lock(); f.key = key; f.mu.Unlock() }

// FailNext makes the next n requests fail before any effect with status and
// Stripe's error body for code (e.g. 429 "rate_limit", 500 "", 409
// "idempotency_key_in_use"), plus Retry-After when retryAfter > 0.
// Status 0 closes the connection without an answer (connection reset).
func (f *Fake) FailNext(n, status int, code string, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, code: code, retryAfter: retryAfter})
	}
}

// FailNextAdvising is FailNext with a Stripe-Should-Retry header ("true" or
// "false"), which Stripe sends when it knows whether a retry can help.
func (f *Fake) FailNextAdvising(n, status int, code, shouldRetry string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, code: code, shouldRetry: shouldRetry})
	}
}

// FailStartedNext makes the next n POSTs fail with a 5xx after the endpoint
// started executing. As on Stripe, the error is stored for the request's
// Idempotency-Key and replayed (Idempotent-Replayed: true) to every later
// request with that key: retrying with the same key cannot succeed.
func (f *Fake) FailStartedNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, started: true})
	}
}

// Delay holds every later answer for d after the effect has happened: the
// ambiguous case where a refund exists but the caller timed out. While an
// answer is held, a request with the same Idempotency-Key gets 409
// idempotency_key_in_use, as on Stripe.
func (f *Fake) Delay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// SetRefundStatus sets the status new refunds get (default "succeeded";
// "pending" and "failed" are useful).
func (f *Fake) SetRefundStatus(s string) { f.mu.Lock(); f.refundStatus = s; f.mu.Unlock() }

// RefundCount is the number of refunds created (replays excluded).
func (f *Fake) RefundCount() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.refunds) }

// Refunds returns copies of the refunds created, oldest first.
func (f *Fake) Refunds() []Refund {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Refund, len(f.refunds))
	for i, r := range f.refunds {
		out[i] = *r
	}
	return out
}

// Requests returns every request received, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Dispute returns a copy of a dispute's current state.
func (f *Fake) Dispute(id string) (Dispute, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.disputes[id]
	if !ok {
		return Dispute{}, false
	}
	cp := *d
	cp.Evidence = maps(d.Evidence)
	return cp, true
}

func (f *Fake) nextID(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s_fake%06d", prefix, f.seq)
}

func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/refunds", f.createRefund)
	mux.HandleFunc("GET /v1/refunds", f.listRefunds)
	mux.HandleFunc("GET /v1/charges/{id}", f.getObject("charge"))
	mux.HandleFunc("GET /v1/payment_intents/{id}", f.getObject("payment_intent"))
	mux.HandleFunc("GET /v1/invoices/search", f.searchInvoices)
	mux.HandleFunc("GET /v1/invoices/{id}", f.getObject("invoice"))
	mux.HandleFunc("GET /v1/invoice_payments", f.listInvoicePayments)
	mux.HandleFunc("GET /v1/invoice_payments/{id}", f.getInvoicePayment)
	mux.HandleFunc("GET /v1/customers/search", f.searchCustomers)
	mux.HandleFunc("GET /v1/customers", f.listCustomers)
	mux.HandleFunc("GET /v1/customers/{id}", f.getObject("customer"))
	mux.HandleFunc("POST /v1/customers/{id}", f.updateCustomer)
	mux.HandleFunc("GET /v1/customers/{id}/tax_ids", f.listTaxIDs)
	mux.HandleFunc("POST /v1/customers/{id}/tax_ids", f.createTaxID)
	mux.HandleFunc("GET /v1/subscriptions/{id}", f.getObject("subscription"))
	mux.HandleFunc("GET /v1/disputes/{id}", f.getObject("dispute"))
	mux.HandleFunc("POST /v1/disputes/{id}", f.updateDispute)
	mux.HandleFunc("GET /v1/refunds/{id}", f.getRefund)
	mux.HandleFunc("POST /v1/credit_notes", f.createCreditNote)
	mux.HandleFunc("GET /v1/credit_notes", f.listCreditNotes)
	mux.HandleFunc("GET /v1/credit_notes/{id}", f.getCreditNote)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "",
			fmt.Sprintf("Unrecognized request URL (%s: %s).", r.Method, r.URL.Path), "")
	})
	pay := f.payRoutes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.payBase = "http://" + r.Host
		f.mu.Unlock()
		if isPayPath(r.URL.Path) {
			pay.ServeHTTP(w, r)
			return
		}
		f.serve(w, r, mux)
	})
}

// filesRoutes is files.stripe.com: uploads only. The API host has no
// POST /v1/files and answers it like any unknown URL.
func (f *Fake) filesRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/files", f.createFile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "",
			fmt.Sprintf("Unrecognized request URL (%s: %s).", r.Method, r.URL.Path), "")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, mux) })
}

// serve applies what every Stripe endpoint shares: auth, injected faults,
// idempotency on POST, the request log and the configured delay.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request, mux http.Handler) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid request body.", "")
		return
	}
	ikey := r.Header.Get("Idempotency-Key")
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, IdempotencyKey: ikey, Form: r.Form}
	if r.Method == http.MethodPost {
		rec.Form = r.PostForm
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			form, err := multipartForm(r)
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid multipart body.", "")
				return
			}
			rec.Form = form
		}
	}
	res := httptest.NewRecorder()
	hijack, owned := f.handle(res, r, mux, ikey, rec.Form)
	f.mu.Lock()
	rec.Status = res.Code
	if hijack {
		rec.Status = 0
	}
	f.reqs = append(f.reqs, rec)
	delay := f.delay
	f.mu.Unlock()
	if hijack {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	if owned {
		f.mu.Lock()
		delete(f.inflight, ikey)
		f.mu.Unlock()
	}
	for k, v := range res.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(res.Code)
	w.Write(res.Body.Bytes())
}

// handle decides the answer into res. hijack: drop the connection instead;
// owned: this request holds ikey in flight until its answer is written.
func (f *Fake) handle(res *httptest.ResponseRecorder, r *http.Request, mux http.Handler, ikey string, form url.Values) (hijack, owned bool) {
	res.Header().Set("Request-Id", "req_fake"+fmt.Sprint(time.Now().UnixNano()))
	if msg := f.checkAuth(r.Header.Get("Authorization")); msg != "" {
		writeError(res, http.StatusUnauthorized, "invalid_request_error", "", msg, "")
		return false, false
	}
	ft, faulty := f.popFault()
	if faulty && !(ft.started && r.Method == http.MethodPost && ikey != "") {
		if ft.status == 0 {
			return true, false
		}
		writeFault(res, ft)
		return false, false
	}
	if r.Method != http.MethodPost || ikey == "" {
		mux.ServeHTTP(res, r)
		return false, false
	}
	if len(ikey) > 255 {
		writeError(res, http.StatusBadRequest, "invalid_request_error", "",
			"Invalid idempotency key: must be at most 255 characters.", "")
		return false, false
	}
	res.Header().Set("Idempotency-Key", ikey)
	hash := requestHash(r.Method, r.URL.Path, form)
	f.mu.Lock()
	if f.inflight[ikey] {
		f.mu.Unlock()
		writeError(res, http.StatusConflict, "invalid_request_error", "idempotency_key_in_use",
			"There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): "+ikey+". Please try again later.", "")
		return false, false
	}
	if e, ok := f.idem[ikey]; ok {
		f.mu.Unlock()
		if e.hash != hash {
			writeError(res, http.StatusBadRequest, "idempotency_error", "",
				"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '"+ikey+"' if you meant to execute a different request.", "")
			return false, false
		}
		res.Header().Set("Idempotent-Replayed", "true")
		res.Header().Set("Content-Type", "application/json")
		res.WriteHeader(e.status)
		res.Write(e.body)
		return false, false
	}
	f.inflight[ikey] = true
	f.mu.Unlock()
	owned = true
	if faulty { // a started fault: the endpoint failed mid-way, nothing took effect
		writeFault(res, ft)
	} else {
		mux.ServeHTTP(res, r)
	}
	// Stripe stores every answer of an endpoint that started executing, 5xx
	// included; not a rate limit or a conflict, which never started.
	if res.Code != http.StatusTooManyRequests && res.Code != http.StatusConflict {
		f.mu.Lock()
		f.idem[ikey] = &idemEntry{hash: hash, status: res.Code, body: res.Body.Bytes()}
		f.mu.Unlock()
	}
	return false, owned
}

func (f *Fake) checkAuth(h string) string {
	f.mu.Lock()
	key := f.key
	f.mu.Unlock()
	got, ok := strings.CutPrefix(h, "Bearer ")
	switch {
	case !ok || got == "":
		return "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
	case got != key:
		return "Invalid API Key provided: " + maskKey(got)
	}
	return ""
}

// maskKey masks a key the way Stripe does: "sk_test_****abcd".
func maskKey(k string) string {
	prefix := ""
	for _, p := range []string{"sk_test_", "sk_live_", "rk_test_", "rk_live_"} {
		if strings.HasPrefix(k, p) {
			prefix = p
		}
	}
	if len(k) < len(prefix)+4 {
		return prefix + "****"
	}
	return prefix + "****" + k[len(k)-4:]
}

func (f *Fake) popFault() (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.faults) == 0 {
		return fault{}, false
	}
	ft := f.faults[0]
	f.faults = f.faults[1:]
	return ft, true
}

func writeFault(w http.ResponseWriter, ft fault) {
	if ft.shouldRetry != "" {
		w.Header().Set("Stripe-Should-Retry", ft.shouldRetry)
	}
	if ft.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(ft.retryAfter.Round(time.Second)/time.Second)))
	}
	typ, msg := "invalid_request_error", "Request failed."
	switch {
	case ft.status == http.StatusTooManyRequests:
		msg = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
		if ft.code == "" {
			ft.code = "rate_limit"
		}
	case ft.status >= 500:
		typ, msg = "api_error", "An unknown error occurred"
	case ft.code == "idempotency_key_in_use":
		msg = "There is currently another in-progress request using this Idempotent Key. Please try again later."
	}
	writeError(w, ft.status, typ, ft.code, msg, "")
}

func requestHash(method, path string, form url.Values) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n%s", method, path, form.Encode()) // Encode sorts keys
	return hex.EncodeToString(h.Sum(nil))
}

// writeError writes Stripe's error body: {"error":{"type","code","message","param"}}.
func writeError(w http.ResponseWriter, status int, typ, code, msg, param string) {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
		e["doc_url"] = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-")
	}
	if param != "" {
		e["param"] = param
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, object, id, param string) {
	writeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing",
		fmt.Sprintf("No such %s: '%s'", object, id), param)
}

// checkParams answers 400 parameter_unknown for a form key outside allowed;
// a trailing "[" in allowed admits any "name[...]" key.
func checkParams(w http.ResponseWriter, form url.Values, allowed ...string) bool {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
outer:
	for _, k := range keys {
		for _, a := range allowed {
			if k == a || (strings.HasSuffix(a, "[") && strings.HasPrefix(k, a)) {
				continue outer
			}
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_unknown",
			"Received unknown parameter: "+k, k)
		return false
	}
	return true
}

func nested(form url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range form {
		if inner, ok := strings.CutPrefix(k, prefix+"["); ok && strings.HasSuffix(inner, "]") && len(v) > 0 {
			out[strings.TrimSuffix(inner, "]")] = v[0]
		}
	}
	return out
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
