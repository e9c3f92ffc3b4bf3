package connector

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout bounds one connector call. It must stay shorter than the job
// timeout so a silent peer ends the attempt, not the worker.
const DefaultTimeout = 20 * time.Second

// NewHTTPClient returns a client with its own transport and a total request
// timeout (DefaultTimeout when timeout <= 0).
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = timeout
	return &http.Client{Transport: t, Timeout: timeout}
}

// RecordedRequest is one outgoing request as sent, with credentials redacted.
type RecordedRequest struct {
	Connector string
	Method    string
	URL       string
	Header    map[string]string
	Body      string
	At        time.Time
	// Origin is the case and action the request was sent for, when the
	// caller's context named them (WithOrigin); zero otherwise.
	Origin Origin
}

// Origin names what a request was sent for: a case, and the action of that case
// when one action sent it (an alert or a ticket update names only the case).
type Origin struct {
	CaseID   int64
	ActionID int64
}

type originKey struct{}

// WithOrigin marks the requests sent with ctx as sent for o, so the sandbox log
// finds every request of a case (a Drive folder lookup, the Stripe PDF read before
// an email, a Gmail message whose body is base64), not only the ones whose body
// names it.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf is the origin WithOrigin put in ctx (zero when none).
func OriginOf(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Recorder keeps the last requests sent through the transports it wraps; the
// dev sandbox and the admin page show them. Safe for concurrent use.
type Recorder struct {
	// Unscrubbed keeps bodies exactly as sent instead of passing them through
	// Scrub, so a test can check what actually left for a leak that Scrub
	// would hide. Never set it where people read the recordings.
	Unscrubbed bool

	mu    sync.Mutex
	limit int
	reqs  []RecordedRequest
}

// NewRecorder keeps at most limit requests (200 when limit <= 0).
func NewRecorder(limit int) *Recorder {
	if limit <= 0 {
		limit = 200
	}
	return &Recorder{limit: limit}
}

// Requests returns a copy of the recorded requests, oldest first.
func (r *Recorder) Requests() []RecordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RecordedRequest(nil), r.reqs...)
}

// Wrap returns a client that records every request and then sends it with
// c's transport (http.DefaultTransport when nil). c's timeout is kept.
func (r *Recorder) Wrap(connector string, c *http.Client) *http.Client {
	if c == nil {
		c = NewHTTPClient(0)
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cp := *c
	cp.Transport = recordingTransport{r: r, connector: connector, next: next}
	return &cp
}

func (r *Recorder) scrub(body string) string {
	if r.Unscrubbed {
		return body
	}
	return Scrub(body)
}

func (r *Recorder) add(rr RecordedRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, rr)
	if over := len(r.reqs) - r.limit; over > 0 {
		r.reqs = append(r.reqs[:0:0], r.reqs[over:]...)
	}
}

type recordingTransport struct {
	r         *Recorder
	connector string
	next      http.RoundTripper
}

// sensitiveHeaders are replaced by "[redacted]" in recordings.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "Cookie": true, "Proxy-Authorization": true,
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rr := RecordedRequest{Connector: t.connector, Method: req.Method, URL: req.URL.String(),
		Header: make(map[string]string, len(req.Header)), At: time.Now().UTC(), Origin: OriginOf(req.Context())}
	for k, v := range req.Header {
		if sensitiveHeaders[http.CanonicalHeaderKey(k)] {
			rr.Header[k] = "[redacted]"
		} else if len(v) > 0 {
			rr.Header[k] = v[0]
		}
	}
	if req.Body != nil && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(b, 64<<10))
			b.Close()
			rr.Body = t.r.scrub(string(data))
		}
	} else if req.Body != nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context()) // RoundTrippers must not modify the caller's request
		req.Body = io.NopCloser(bytes.NewReader(data))
		rr.Body = t.r.scrub(string(data))
	}
	t.r.add(rr)
	return t.next.RoundTrip(req)
}
