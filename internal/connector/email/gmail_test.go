package email_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/email"
	"github.com/countersign/countersign/internal/connector/email/gmailfake"
)

const accessToken = "ya29.test-access-token-secret"

// bearer adds the OAuth2 header the way an oauth2.Transport would.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func setupGmail(t *testing.T, token string, timeout time.Duration) (*gmailfake.Fake, *email.GmailSender) {
	t.Helper()
	fake := gmailfake.New(accessToken)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	hc := connector.NewHTTPClient(timeout)
	hc.Transport = bearer{token: token, next: hc.Transport}
	g, err := email.NewGmail(email.GmailConfig{BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return fake, g
}

func message(id string) email.Message {
	return email.Message{From: "Countersign <billing@acme.test>", To: "ana@example.com",
		Subject: "Your credit note", Text: "Please find your credit note attached.", MessageID: id,
		Attachments: []email.Attachment{{Name: "credit-note.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 fake\x00\x01")}}}
}

func TestGmailSendAndFind(t *testing.T) {
	t.Parallel()
	fake, g := setupGmail(t, accessToken, time.Second)
	ctx := context.Background()
	const id = "<action-42.call_abc@countersign.local>"
	if found, err := g.Find(ctx, id); err != nil || found {
		t.Fatalf("Find before send = %v, %v", found, err)
	}
	r, err := g.Send(ctx, message(id))
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || r.ExternalID != sent[0].ID {
		t.Fatalf("receipt %+v, sent %+v", r, sent)
	}
	s := sent[0]
	if s.MessageID != id || s.To != "<ana@example.com>" || s.Subject != "Your credit note" ||
		!strings.Contains(s.Text, "credit note attached") {
		t.Fatalf("sent message = %+v", s)
	}
	if len(s.Attachments) != 1 || s.Attachments[0].Name != "credit-note.pdf" ||
		!bytes.Equal(s.Attachments[0].Data, message(id).Attachments[0].Data) {
		t.Fatalf("attachments = %+v", s.Attachments)
	}
	for _, q := range []string{id, "action-42.call_abc@countersign.local"} {
		if found, err := g.Find(ctx, q); err != nil || !found {
			t.Fatalf("Find(%q) after send = %v, %v", q, found, err)
		}
	}
}

func TestGmailLostReplyThenFind(t *testing.T) {
	t.Parallel()
	fake, g := setupGmail(t, accessToken, time.Second)
	ctx := context.Background()
	const id = "<action-43.call_abc@countersign.local>"
	fake.LoseReply(1)
	if _, err := g.Send(ctx, message(id)); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost reply: err = %v, want temporary", err)
	}
	if found, err := g.Find(ctx, id); err != nil || !found {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if n := fake.Count(id); n != 1 {
		t.Fatalf("sent %d times", n)
	}
}

func TestGmailErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		prepare    func(*gmailfake.Fake)
		msg        func(email.Message) email.Message
		permanent  bool
		status     int
		code       string
		retryAfter time.Duration
	}{
		{name: "rate limited", prepare: func(f *gmailfake.Fake) { f.FailNext(1, 429, 2*time.Second) }, status: 429, code: "rateLimitExceeded", retryAfter: 2 * time.Second},
		{name: "backend error", prepare: func(f *gmailfake.Fake) { f.FailNext(1, 500, 0) }, status: 500, code: "backendError"},
		{name: "timeout", prepare: func(f *gmailfake.Fake) { f.Delay(time.Second) }, code: "timeout"},
		{name: "unauthenticated", token: "ya29.wrong-token-secret", permanent: true, status: 401, code: "authError"},
		{name: "forbidden", prepare: func(f *gmailfake.Fake) { f.FailNext(1, 403, 0) }, permanent: true, status: 403},
		{name: "bad message id", msg: func(m email.Message) email.Message { m.MessageID = "no-at-sign"; return m }, permanent: true, code: "invalid_message"},
		{name: "bad recipient", msg: func(m email.Message) email.Message { m.To = "not an address"; return m }, permanent: true, code: "invalid_message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := accessToken
			if tt.token != "" {
				token = tt.token
			}
			fake, g := setupGmail(t, token, 200*time.Millisecond)
			if tt.prepare != nil {
				tt.prepare(fake)
			}
			m := message("<action-1.call_x@countersign.local>")
			if tt.msg != nil {
				m = tt.msg(m)
			}
			_, err := g.Send(context.Background(), m)
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if ce.Permanent != tt.permanent || ce.Status != tt.status || (tt.code != "" && ce.Code != tt.code) || ce.RetryAfter != tt.retryAfter {
				t.Fatalf("err = %+v", ce)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error leaks the token: %q", err)
			}
			if n := len(fake.Sent()); n != 0 {
				t.Fatalf("failed send took effect %d times", n)
			}
		})
	}
}

func TestBuildKeepsHeadersIntact(t *testing.T) {
	t.Parallel()
	m := message("action-44.call_abc@countersign.local")
	m.Subject = "Refund\r\nBcc: attacker@evil.test"
	raw, err := email.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	if strings.Contains(head, "\r\nBcc:") {
		t.Fatalf("subject injected a header:\n%s", head)
	}
	if strings.Count(head, "Message-ID: <action-44.call_abc@countersign.local>") != 1 {
		t.Fatalf("Message-ID missing or repeated:\n%s", head)
	}
}
