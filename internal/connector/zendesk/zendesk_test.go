package zendesk_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/zendesk"
	"github.com/countersign/countersign/internal/connector/zendesk/zdfake"
)

const (
	email    = "bot@acme.test"
	apiToken = "zd-api-token-very-secret"
)

func setup(t *testing.T, token string, timeout time.Duration) (*zdfake.Fake, *zendesk.Client) {
	t.Helper()
	fake := zdfake.New(email, apiToken)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	c, err := zendesk.New(zendesk.Config{BaseURL: srv.URL, Email: email, APIToken: token,
		HTTPClient: connector.NewHTTPClient(timeout)})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func ticket() zendesk.Ticket {
	return zendesk.Ticket{Subject: "Your refund", Comment: "We have issued your refund.", Public: true,
		RequesterID: zdfake.AgentID, Priority: "high", Tags: []string{"billing"}, ExternalID: "call_abc"}
}

func TestCreateTicketIdempotent(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, apiToken, time.Second)
	ctx := context.Background()
	first, err := c.CreateTicket(ctx, ticket(), "call_abc:ticket:42")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateTicket(ctx, ticket(), "call_abc:ticket:42")
	if err != nil {
		t.Fatal(err)
	}
	if first.ExternalID == "" || again.ExternalID != first.ExternalID || fake.Creates() != 1 {
		t.Fatalf("first %s, again %s, creates %d", first.ExternalID, again.ExternalID, fake.Creates())
	}
	found, ok, err := c.FindByExternalID(ctx, "call_abc")
	if err != nil || !ok || found.ExternalID != first.ExternalID {
		t.Fatalf("FindByExternalID = %+v, %v, %v", found, ok, err)
	}
	if _, ok, err := c.FindByExternalID(ctx, "call_other"); err != nil || ok {
		t.Fatalf("unknown external id: found=%v err=%v", ok, err)
	}
	// Same key, different ticket: Zendesk refuses, and so must we not retry.
	changed := ticket()
	changed.Subject = "Something else"
	_, err = c.CreateTicket(ctx, changed, "call_abc:ticket:42")
	if !connector.IsPermanent(err) || fake.Creates() != 1 {
		t.Fatalf("key reuse: err = %v, creates %d", err, fake.Creates())
	}
}

func TestCreateTicketLostReply(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, apiToken, time.Second)
	ctx := context.Background()
	fake.LoseReply(1)
	if _, err := c.CreateTicket(ctx, ticket(), "k1"); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost reply: err = %v, want temporary", err)
	}
	r, err := c.CreateTicket(ctx, ticket(), "k1")
	if err != nil || r.ExternalID == "" || fake.Creates() != 1 {
		t.Fatalf("retry = %+v, %v; creates %d", r, err, fake.Creates())
	}
}

func TestUpdateTicket(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, apiToken, time.Second)
	ctx := context.Background()
	r, err := c.CreateTicket(ctx, ticket(), "k2")
	if err != nil {
		t.Fatal(err)
	}
	id := mustID(t, r.ExternalID)
	if _, err := c.UpdateTicket(ctx, id, zendesk.TicketUpdate{Comment: "Internal: refund staged", Priority: "urgent"}); err != nil {
		t.Fatal(err)
	}
	got, _ := fake.Ticket(id)
	if got.Priority != "urgent" || len(got.Comments) != 2 || got.Comments[1].Public {
		t.Fatalf("ticket after update: %+v", got)
	}
	_, err = c.UpdateTicket(ctx, 999999, zendesk.TicketUpdate{Comment: "x"})
	var ce *connector.Error
	if !errors.As(err, &ce) || !ce.Permanent || ce.Status != 404 || ce.Code != "RecordNotFound" {
		t.Fatalf("update missing ticket: %v", err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		prepare    func(*zdfake.Fake)
		edit       func(*zendesk.Ticket)
		permanent  bool
		status     int
		code       string
		retryAfter time.Duration
	}{
		{name: "rate limited", prepare: func(f *zdfake.Fake) { f.FailNext(1, 429, 7*time.Second) }, status: 429, retryAfter: 7 * time.Second},
		{name: "server error", prepare: func(f *zdfake.Fake) { f.FailNext(1, 502, 0) }, status: 502},
		{name: "timeout", prepare: func(f *zdfake.Fake) { f.Delay(time.Second) }, code: "timeout"},
		{name: "invalid record", edit: func(t *zendesk.Ticket) { t.Comment = "" }, permanent: true, status: 422, code: "RecordInvalid"},
		{name: "bad priority", edit: func(t *zendesk.Ticket) { t.Priority = "asap" }, permanent: true, status: 422, code: "RecordInvalid"},
		{name: "unknown requester", edit: func(t *zendesk.Ticket) { t.RequesterID = 424242 }, permanent: true, status: 422, code: "RecordInvalid"},
		{name: "bad status", edit: func(t *zendesk.Ticket) { t.Status = "done" }, permanent: true, status: 422, code: "RecordInvalid"},
		{name: "unauthorized", token: "zd-wrong-token-also-secret", permanent: true, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := apiToken
			if tt.token != "" {
				token = tt.token
			}
			fake, c := setup(t, token, 200*time.Millisecond)
			if tt.prepare != nil {
				tt.prepare(fake)
			}
			tk := ticket()
			if tt.edit != nil {
				tt.edit(&tk)
			}
			_, err := c.CreateTicket(context.Background(), tk, "key:"+tt.name)
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if ce.Permanent != tt.permanent || ce.Status != tt.status || (tt.code != "" && ce.Code != tt.code) || ce.RetryAfter != tt.retryAfter {
				t.Fatalf("err = %+v", ce)
			}
			if s := err.Error(); strings.Contains(s, token) || strings.Contains(s, "Basic ") {
				t.Fatalf("error leaks a credential: %q", s)
			}
			if fake.Creates() != 0 {
				t.Fatalf("failed create took effect")
			}
		})
	}
}

// The requester is an end user found or created by email: once, whatever the case.
func TestEnsureEndUser(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, apiToken, time.Second)
	ctx := context.Background()
	id, err := c.EnsureEndUser(ctx, "ana@example.com", "Ana Customer", true)
	if err != nil || id == 0 {
		t.Fatalf("create: %d %v", id, err)
	}
	again, err := c.EnsureEndUser(ctx, "ANA@example.com", "", true)
	if err != nil || again != id {
		t.Fatalf("second lookup: %d %v, want %d", again, err, id)
	}
	u, _ := fake.UserByEmail("ana@example.com")
	if u.Role != "end-user" || !u.Verified {
		t.Fatalf("user %+v", u)
	}
	tk := ticket()
	tk.RequesterID = id
	r, err := c.CreateTicket(ctx, tk, "k-ana")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.Ticket(mustID(t, r.ExternalID)); got.RequesterID != id {
		t.Fatalf("requester %d, want %d", got.RequesterID, id)
	}
	if agent, err := c.AgentID(ctx); err != nil || agent != zdfake.AgentID {
		t.Fatalf("AgentID = %d, %v", agent, err)
	}
}

// external_id is not unique at Zendesk: looking up by a call id adopts whichever
// ticket came first, another case's or another integration's.
func TestExternalIDIsNotUnique(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, apiToken, time.Second)
	ctx := context.Background()
	other := fake.AddTicket("opened by another integration", "call_abc")
	r, err := c.CreateTicket(ctx, ticket(), "k-call")
	if err != nil {
		t.Fatal(err)
	}
	found, _, err := c.FindByExternalID(ctx, "call_abc")
	if err != nil || found.ExternalID != strconv.FormatInt(other, 10) || found.ExternalID == r.ExternalID {
		t.Fatalf("found %s, ours %s, other %d: a shared external id finds the other ticket", found.ExternalID, r.ExternalID, other)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []zendesk.Config{{}, {Subdomain: "acme"}, {BaseURL: "http://x", Email: "a@b"}} {
		if _, err := zendesk.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if _, err := zendesk.New(zendesk.Config{Subdomain: "acme", OAuthToken: "t"}); err != nil {
		t.Error(err)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("ticket id %q: %v", s, err)
	}
	return id
}
