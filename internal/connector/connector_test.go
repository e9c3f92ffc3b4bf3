package connector_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
)

func TestFromHTTP(t *testing.T) {
	tests := []struct {
		status     int
		header     string
		code       string
		permanent  bool
		retryAfter time.Duration
	}{
		{429, "17", "rate_limit", false, 17 * time.Second},
		{429, "", "", false, 0},
		{500, "", "", false, 0},
		{503, "5", "", false, 0}, // Retry-After only honoured on 429
		{408, "", "", false, 0},
		{409, "", "idempotency_key_in_use", false, 0},
		{409, "", "conflict", true, 0},
		{400, "", "charge_already_refunded", true, 0},
		{401, "", "", true, 0},
		{404, "", "resource_missing", true, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Retry-After", tt.header)
		}
		e := connector.FromHTTP("stripe", "refund", tt.status, h, tt.code, "msg")
		if e.Permanent != tt.permanent || e.RetryAfter != tt.retryAfter || e.Status != tt.status || e.Code != tt.code {
			t.Errorf("%d %q: got %+v", tt.status, tt.code, e)
		}
		wrapped := fmt.Errorf("worker: action 7: %w", e)
		if connector.IsPermanent(wrapped) != tt.permanent {
			t.Errorf("%d: IsPermanent through wrapping", tt.status)
		}
		if d, ok := connector.RetryAfter(wrapped); ok != (tt.retryAfter > 0) || d != tt.retryAfter {
			t.Errorf("%d: RetryAfter = %v %v", tt.status, d, ok)
		}
	}
	if connector.IsPermanent(errors.New("plain")) {
		t.Error("unclassified errors must count as temporary")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := connector.ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestErrorTextHasNoSecrets(t *testing.T) {
	e := connector.FromHTTP("stripe", "refund", 401, nil, "",
		"Invalid API Key provided: sk_live_****abcd; card 4242 4242 4242 4242; header Bearer xoxb-123-456")
	s := e.Error()
	for _, leak := range []string{"abcd", "4242 4242", "xoxb-123"} {
		if strings.Contains(s, leak) {
			t.Errorf("%q leaks %q", s, leak)
		}
	}
	if !strings.HasPrefix(s, "stripe: refund: permanent failure (status 401)") {
		t.Errorf("text = %q", s)
	}
	// A transport error's URL can carry an email address in its query.
	_, err := http.Get("http://127.0.0.1:1/v1/customers?email=ana@example.com")
	te := connector.FromTransport("stripe", "find customer", err)
	if te.Permanent || strings.Contains(te.Error(), "ana@example.com") {
		t.Errorf("transport error: %q", te.Error())
	}
	if !errors.Is(te, err) {
		t.Error("Unwrap must expose the cause")
	}
}

func TestFromTransportTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	_, err := connector.NewHTTPClient(30 * time.Millisecond).Get(srv.URL)
	e := connector.FromTransport("x", "get", err)
	if e.Code != "timeout" || e.Permanent {
		t.Errorf("got %+v", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err = connector.NewHTTPClient(0).Do(req)
	if e := connector.FromTransport("x", "get", err); e.Code != "timeout" {
		t.Errorf("context deadline: %+v", e)
	}
}

func TestRecorderRedactsCredentials(t *testing.T) {
	var gotAuth, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
	}))
	defer srv.Close()
	rec := connector.NewRecorder(2)
	c := rec.Wrap("stripe", connector.NewHTTPClient(time.Second))
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/refunds", strings.NewReader(fmt.Sprintf("amount=%d", i)))
		req.Header.Set("Authorization", "Bearer rk_live_secret")
		req.Header.Set("X-Api-Key", "tm-secret")
		req.Header.Set("Idempotency-Key", "k")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if gotAuth != "Bearer rk_live_secret" || gotBody != "amount=2" {
		t.Fatalf("the peer must get the real request: %q %q", gotAuth, gotBody)
	}
	reqs := rec.Requests()
	if len(reqs) != 2 {
		t.Fatalf("kept %d requests, want 2", len(reqs))
	}
	r := reqs[1]
	if r.Header["Authorization"] != "[redacted]" || r.Header["X-Api-Key"] != "[redacted]" ||
		r.Header["Idempotency-Key"] != "k" || r.Body != "amount=2" || r.Method != "POST" || r.Connector != "stripe" {
		t.Errorf("recorded %+v", r)
	}
}

func TestRecorderKeepsOrigin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	rec := connector.NewRecorder(0)
	c := rec.Wrap("email", connector.NewHTTPClient(time.Second))
	for _, o := range []connector.Origin{{CaseID: 7, ActionID: 42}, {}} {
		ctx := context.Background()
		if o != (connector.Origin{}) {
			ctx = connector.WithOrigin(ctx, o)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"raw":"..."}`))
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	reqs := rec.Requests()
	if reqs[0].Origin != (connector.Origin{CaseID: 7, ActionID: 42}) || reqs[1].Origin != (connector.Origin{}) {
		t.Errorf("origins %+v %+v", reqs[0].Origin, reqs[1].Origin)
	}
}
