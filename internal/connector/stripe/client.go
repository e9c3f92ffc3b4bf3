// Package stripe is Countersign's Stripe connector: refunds, read-only
// look-ups that return small normalised facts, dispute evidence staging,
// billing corrections (a customer's address and a new tax id, CorrectCustomer),
// and webhook signature verification. Callers never import stripe-go.
//
// Every call is made once: the SDK's own retries are off, so the job worker
// owns retry policy and sees every classified failure.
package stripe

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	sdk "github.com/stripe/stripe-go/v82"
)

const name = "stripe"

// DefaultBaseURL is Stripe's API. Tests and the dev sandbox point BaseURL at a
// loopback fake.
const DefaultBaseURL = "https://api.stripe.com"

// DefaultFilesURL is Stripe's upload host: POST /v1/files goes there, never to
// the API host (which answers 404).
const DefaultFilesURL = "https://files.stripe.com"

// Config holds what the connector needs. Key is a restricted key (rk_...)
// loaded from the environment; it is never logged or put into errors.
type Config struct {
	BaseURL    string       // default DefaultBaseURL
	FilesURL   string       // default DefaultFilesURL
	Key        string       // restricted API key
	HTTPClient *http.Client // default connector.NewHTTPClient(0); its timeout bounds each call
	// ReadsPerSecond paces this client's read requests (lookups, searches: GET) to
	// stay under Stripe's read rate limit (about 100/s per account in live mode, 25 in
	// test mode); 0 does not pace. Writes (refunds, evidence) are never delayed.
	ReadsPerSecond float64
}

// Client calls Stripe. Safe for concurrent use.
type Client struct {
	api    *sdk.Client
	hasKey bool
	// docs fetches the documents Stripe links to (invoice and credit note PDFs),
	// only from docHosts, never with the API key.
	docs     *http.Client
	docHosts map[string]bool
}

// New builds a client. It does not contact Stripe.
func New(cfg Config) *Client {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = connector.NewHTTPClient(0)
	}
	hc = captureStatus(hc, connector.NewPacer(cfg.ReadsPerSecond, 10))
	files := strings.TrimRight(cfg.FilesURL, "/")
	if files == "" {
		files = DefaultFilesURL
	}
	backendFor := func(typ sdk.SupportedBackend, url string) sdk.Backend {
		return sdk.GetBackendWithConfig(typ, &sdk.BackendConfig{
			URL:               sdk.String(url),
			HTTPClient:        hc,
			MaxNetworkRetries: sdk.Int64(0),
			EnableTelemetry:   sdk.Bool(false),
			LeveledLogger:     &sdk.LeveledLogger{Level: sdk.LevelNull},
		})
	}
	backend := backendFor(sdk.APIBackend, base)
	backends := &sdk.Backends{API: backend, Connect: backend, Uploads: backendFor(sdk.UploadsBackend, files), MeterEvents: backend}
	c := &Client{api: sdk.NewClient(cfg.Key, sdk.WithBackends(backends)), hasKey: cfg.Key != ""}
	c.docs, c.docHosts = documentClient(hc, base, files)
	return c
}

// begin prepares a call: it refuses to run without a key and attaches a slot
// that records the HTTP status, so answers that are not Stripe JSON (a proxy's
// 502 page) can still be classified.
func (c *Client) begin(ctx context.Context, op string) (context.Context, *statusSlot, error) {
	if !c.hasKey {
		return ctx, nil, &connector.Error{Connector: name, Op: op, Code: "missing_key",
			Message: "no Stripe key configured", Permanent: true}
	}
	slot := &statusSlot{}
	return context.WithValue(ctx, slotKey{}, slot), slot, nil
}

// classify turns whatever the SDK returned into a *connector.Error.
func classify(op string, slot *statusSlot, err error) error {
	if err == nil {
		return nil
	}
	var ce *connector.Error
	if errors.As(err, &ce) {
		return ce
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		var h http.Header
		if se.LastResponse != nil {
			h = se.LastResponse.Header
		}
		code := string(se.Code)
		if code == "" {
			code = string(se.Type)
		}
		msg := se.Msg
		if msg == "" {
			msg = "Stripe returned an error"
		}
		out := connector.FromHTTP(name, op, se.HTTPStatusCode, h, code, msg)
		out.Err = se
		return stripeAdvice(out, h)
	}
	if slot != nil && slot.status >= 400 {
		// An answer that is not Stripe's error JSON: classify by status only
		// and keep the body (which the SDK quotes) out of the message.
		out := connector.FromHTTP(name, op, slot.status, slot.header, "", "unexpected response from Stripe")
		out.Err = err
		return stripeAdvice(out, slot.header)
	}
	if slot != nil && slot.status != 0 {
		// 2xx whose body did not decode: the effect may have happened.
		return &connector.Error{Connector: name, Op: op, Status: slot.status, Code: "bad_response",
			Message: "could not read Stripe's answer", Err: err}
	}
	return connector.FromTransport(name, op, err)
}

// stripeAdvice applies what Stripe says about retrying. Stripe-Should-Retry
// overrides the status-based guess either way. A 5xx replayed for a reused
// Idempotency-Key (Idempotent-Replayed: true) is permanent: Stripe answers the
// stored error for that key for 24 hours, so only a person who has checked the
// object in Stripe can decide what to do.
func stripeAdvice(e *connector.Error, h http.Header) *connector.Error {
	if h == nil {
		return e
	}
	switch h.Get("Stripe-Should-Retry") {
	case "false":
		e.Permanent, e.RetryAfter = true, 0
		e.Message = strings.TrimSpace(e.Message + " (Stripe says retrying cannot help)")
		return e
	case "true":
		e.Permanent = false
		return e
	}
	if e.Status >= 500 && h.Get("Idempotent-Replayed") == "true" {
		e.Permanent = true
		e.Message = strings.TrimSpace(e.Message + " (Stripe replayed the error stored for this idempotency key: check the object in Stripe before retrying)")
	}
	return e
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,255}$`)

// checkID refuses ids that are not Stripe-shaped before they reach a URL path.
func checkID(op, id string) error {
	if idRE.MatchString(id) {
		return nil
	}
	return &connector.Error{Connector: name, Op: op, Code: "invalid_params", Message: "not a Stripe id", Permanent: true}
}

type slotKey struct{}

// statusSlot is written by the transport of the one request that carries it.
type statusSlot struct {
	status int
	header http.Header
}

type statusTransport struct {
	next  http.RoundTripper
	reads *connector.Pacer // nil: no pacing
}

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		if err := t.reads.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	res, err := t.next.RoundTrip(req)
	if slot, ok := req.Context().Value(slotKey{}).(*statusSlot); ok && res != nil {
		slot.status, slot.header = res.StatusCode, res.Header.Clone()
	}
	return res, err
}

func captureStatus(hc *http.Client, reads *connector.Pacer) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cp := *hc
	cp.Transport = statusTransport{next: next, reads: reads}
	return &cp
}
