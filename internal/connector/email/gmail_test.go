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
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
)

const mailbox = "billing@acme.test"

// setupGmail returns the fake, a sender acting as subject, the token endpoint, and
// the sender's authenticated client with the fake's URL for raw calls.
func setupGmail(t *testing.T, subject string, timeout time.Duration) (*gmailfake.Fake, *email.GmailSender, *gauthfake.Server, rawClient) {
	t.Helper()
	auth, tokenURL := gauthfake.Start(t, []string{gauth.ScopeGmailSend}, mailbox)
	fake := gmailfake.New(auth)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	hc, err := gauth.Client(gauth.Config{Connector: "gmail", Credentials: auth.CredentialsJSON(tokenURL), Subject: subject,
		Scopes: []string{gauth.ScopeGmailSend}, HTTPClient: connector.NewHTTPClient(timeout)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := email.NewGmail(email.GmailConfig{BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return fake, g, auth, rawClient{hc, srv.URL}
}

type rawClient struct {
	*http.Client
	base string
}

func message(id string) email.Message {
	return email.Message{From: "Countersign <billing@acme.test>", To: "ana@example.com",
		Subject: "Your credit note", Text: "Please find your credit note attached.", MessageID: id,
		Attachments: []email.Attachment{{Name: "credit-note.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 fake\x00\x01")}}}
}

func TestGmailSend(t *testing.T) {
	t.Parallel()
	fake, g, _, _ := setupGmail(t, mailbox, time.Second)
	ctx := context.Background()
	const id = "<action-42.call_abc@countersign.local>"
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
}

// Access tokens expire within the hour: the next send mints a new one instead of
// failing for good (a static token made every later email need a person).
func TestGmailTokenExpiresAndIsRefreshed(t *testing.T) {
	t.Parallel()
	fake, g, auth, _ := setupGmail(t, mailbox, time.Second)
	ctx := context.Background()
	if _, err := g.Send(ctx, message("<action-50.call_abc@countersign.local>")); err != nil {
		t.Fatal(err)
	}
	auth.ExpireAll()
	if _, err := g.Send(ctx, message("<action-51.call_abc@countersign.local>")); err != nil {
		t.Fatalf("send after the token expired: %v", err)
	}
	if len(fake.Sent()) != 2 || auth.Mints() != 2 {
		t.Fatalf("sent %d, tokens minted %d; want 2 and 2", len(fake.Sent()), auth.Mints())
	}
}

// gmail.send does not allow users.messages.list: the fake refuses it as Gmail does,
// which is why the duplicate check is our own sent-record, not a search.
func TestGmailSendScopeCannotList(t *testing.T) {
	t.Parallel()
	_, _, _, hc := setupGmail(t, mailbox, time.Second)
	resp, err := hc.Get(hc.base + "/gmail/v1/users/me/messages?q=rfc822msgid:x@y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("list with gmail.send: status %d, want 403", resp.StatusCode)
	}
}

func TestGmailErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		subject    string
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
		{name: "grant refused", subject: "nobody@acme.test", permanent: true, code: "invalid_grant"},
		{name: "forbidden", prepare: func(f *gmailfake.Fake) { f.FailNext(1, 403, 0) }, permanent: true, status: 403},
		{name: "bad message id", msg: func(m email.Message) email.Message { m.MessageID = "no-at-sign"; return m }, permanent: true, code: "invalid_message"},
		{name: "bad recipient", msg: func(m email.Message) email.Message { m.To = "not an address"; return m }, permanent: true, code: "invalid_message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := mailbox
			if tt.subject != "" {
				subject = tt.subject
			}
			fake, g, _, _ := setupGmail(t, subject, 200*time.Millisecond)
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
			if strings.Contains(err.Error(), "ya29.") {
				t.Fatalf("error leaks a token: %q", err)
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
