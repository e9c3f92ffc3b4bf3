// Package connector holds what every outbound connector shares: one error type
// that tells the job workers whether to retry, the receipt stored on the action
// row, a request recorder for the dev sandbox and admin page, and a default
// HTTP client.
//
// Connectors never log. Errors, receipts and recorded requests must be safe to
// store and show: no credentials, no card data.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Error is the classified failure of one connector call. Workers retry when
// Permanent is false (with the same idempotency key) and move the item to
// "needs attention" when it is true.
type Error struct {
	Connector  string        // "stripe", "slack", ...
	Op         string        // "refund", "get charge", ...
	Status     int           // HTTP status; 0 for network errors
	Code       string        // provider error code, e.g. "charge_already_refunded"
	Message    string        // provider message, scrubbed of key-like strings
	Permanent  bool          // true: retrying with the same input cannot succeed
	RetryAfter time.Duration // provider-requested wait; 0 when none was given
	Err        error         // underlying error, if any
}

// Error describes the failure in plain words. It never includes credentials,
// request URLs or bodies.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Connector)
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	if e.Permanent {
		b.WriteString(": permanent failure")
	} else {
		b.WriteString(": temporary failure")
	}
	var details []string
	if e.Status != 0 {
		details = append(details, "status "+strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		details = append(details, "code "+e.Code)
	}
	if e.RetryAfter > 0 {
		details = append(details, "retry after "+e.RetryAfter.String())
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	if msg := e.Message; msg != "" {
		b.WriteString(": " + Scrub(msg))
	} else if e.Err != nil {
		b.WriteString(": " + Scrub(plainCause(e.Err)))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a connector error that must not be
// retried. Unclassified errors count as temporary: the job's attempt limit
// bounds them.
func IsPermanent(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Permanent
}

// RetryAfter returns the wait the provider asked for, if it asked for one.
func RetryAfter(err error) (time.Duration, bool) {
	var ce *Error
	if errors.As(err, &ce) && ce.RetryAfter > 0 {
		return ce.RetryAfter, true
	}
	return 0, false
}

// FromHTTP classifies a failed HTTP response. 429 is temporary, with
// Retry-After parsed (seconds or HTTP date); 5xx and 408 are temporary; 409
// with code idempotency_key_in_use or lock_timeout is temporary (the first
// request with that key is still running); every other status is permanent.
func FromHTTP(connector, op string, status int, header http.Header, code, msg string) *Error {
	e := &Error{Connector: connector, Op: op, Status: status, Code: code, Message: trim(Scrub(msg), 300)}
	switch {
	case status == http.StatusTooManyRequests:
		if header != nil {
			e.RetryAfter, _ = ParseRetryAfter(header.Get("Retry-After"), time.Now())
		}
	case status >= 500, status == http.StatusRequestTimeout:
	case status == http.StatusConflict && (code == "idempotency_key_in_use" || code == "lock_timeout"):
	default:
		e.Permanent = true
	}
	return e
}

// FromTransport classifies an error returned by http.Client.Do (timeout,
// connection reset, DNS, cancelled context): always temporary.
func FromTransport(connector, op string, err error) *Error {
	var classified *Error
	if errors.As(err, &classified) {
		return classified // an authenticating transport already said what it means
	}
	code := "network_error"
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		code = "timeout"
	}
	return &Error{Connector: connector, Op: op, Code: code, Err: err}
}

// ParseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
// A date in the past yields 0 and ok.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Receipt is what the other system answered, stored on the action row.
type Receipt struct {
	ExternalID string          // the other system's id, e.g. "re_123"
	Summary    string          // one line for people, e.g. "refund re_123 249.00 USD succeeded"
	Raw        json.RawMessage // the response trimmed to what matters; never secrets
}

// plainCause drops the request URL (which can carry query parameters such as
// an email address) from *url.Error.
func plainCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "request timed out"
		}
		return fmt.Sprint(ue.Err)
	}
	return err.Error()
}

var secretLike = regexp.MustCompile(`(?i)\b(?:sk|rk|pk|whsec|xox[abpr])[_-][A-Za-z0-9_*\-]{4,}|\b(?:bearer|basic)\s+\S+|\b\d(?:[ -]?\d){12,18}\b`)

// Scrub replaces key-like strings (sk_/rk_/whsec_ keys, Slack tokens, bearer
// credentials) and card-number-like digit runs with "[redacted]".
func Scrub(s string) string { return secretLike.ReplaceAllString(s, "[redacted]") }

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
