package email_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/email"
)

// peerAddr returns a local peer's address (contracts/connectors.md, "Local peers
// for tests") from name: skipped locally without it, a failure under CI=true,
// where scripts/test.sh always starts the peers (scripts/peers.sh).
func peerAddr(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set under CI=true: run the tests through scripts/test.sh, which starts the peers (scripts/peers.sh)", name)
	}
	t.Skipf("%s not set; start the peers with eval \"$(scripts/peers.sh)\"", name)
	return ""
}

// mailpit reads what arrived through Mailpit's HTTP API.
type mailpit struct {
	t    *testing.T
	base string
	hc   *http.Client
}

type mpAddress struct {
	Name, Address string
}

type mpSummary struct {
	ID          string
	MessageID   string
	Subject     string
	To          []mpAddress
	Attachments int
}

type mpAttachment struct {
	PartID, FileName, ContentType string
	Size                          int
}

type mpMessage struct {
	ID          string
	MessageID   string
	Subject     string
	From        mpAddress
	To          []mpAddress
	Text, HTML  string
	Attachments []mpAttachment
}

func (m *mailpit) get(path string, out any) []byte {
	m.t.Helper()
	res, err := m.hc.Get(m.base + path)
	if err != nil {
		m.t.Fatalf("mailpit %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		m.t.Fatalf("mailpit %s: %d %s", path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			m.t.Fatalf("mailpit %s: %v\n%s", path, err, b)
		}
	}
	return b
}

// withMessageID lists the stored messages whose Message-ID is id (no brackets).
func (m *mailpit) withMessageID(id string) []mpSummary {
	m.t.Helper()
	var list struct {
		Total    int
		Messages []mpSummary
	}
	m.get("/api/v1/messages?limit=500", &list)
	var out []mpSummary
	for _, s := range list.Messages {
		if s.MessageID == id {
			out = append(out, s)
		}
	}
	return out
}

// waitFor waits until n messages with Message-ID id are stored.
func (m *mailpit) waitFor(id string, n int) []mpSummary {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := m.withMessageID(id)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cardLike finds runs of 13-19 digits (spaces or dashes allowed between them).
var cardLike = regexp.MustCompile(`\d(?:[ -]?\d){12,18}`)

// boundary finds a MIME boundary parameter.
var boundary = regexp.MustCompile(`boundary="?([^";\r\n]+)`)

// TestSMTPAgainstMailpit sends through SMTPSender (plain text: loopback only) to
// Mailpit and reads the message back from Mailpit's API: recipient, subject,
// Message-ID and attachment arrive as sent, and no card number is in the body.
// SMTP has no idempotency: the same Message-ID sent twice is stored twice, which
// is why the worker's sent-marker is the guard (internal/jobs).
func TestSMTPAgainstMailpit(t *testing.T) {
	smtpAddr := peerAddr(t, "MAILPIT_SMTP") // e.g. 127.0.0.1:1025
	api := peerAddr(t, "MAILPIT_API")       // e.g. http://127.0.0.1:8025
	host, portText, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatalf("MAILPIT_SMTP %q: %v", smtpAddr, err)
	}
	port, _ := strconv.Atoi(portText)
	if u, err := url.Parse(api); err != nil || u.Host == "" {
		t.Fatalf("MAILPIT_API %q is not a URL", api)
	}
	mp := &mailpit{t: t, base: strings.TrimRight(api, "/"), hc: &http.Client{Timeout: 10 * time.Second}}

	s, err := email.NewSMTP(email.SMTPConfig{Host: host, Port: port, TLS: email.TLSNone, Timeout: 10 * time.Second, HELO: "countersign.test"})
	if err != nil {
		t.Fatal(err)
	}
	// Deterministic per action; the run nonce keeps runs apart in a Mailpit that
	// outlives one test run.
	nonce := make([]byte, 6)
	_, _ = rand.Read(nonce)
	id := fmt.Sprintf("cs-42-%s@countersign.local", hex.EncodeToString(nonce))
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	msg := email.Message{
		From:    "Countersign Billing <billing@countersign.test>",
		To:      "jordan@example.com",
		Subject: "Your invoice INV-0042",
		Text: "Hello,\n\nAs requested on your call, attached is your invoice INV-0042 (249.00 USD, paid by card ending 4242).\n\n" +
			"Billing team",
		MessageID:   "<" + id + ">",
		Attachments: []email.Attachment{{Name: "invoice-INV-0042.pdf", ContentType: "application/pdf", Data: pdf}},
	}
	ctx := context.Background()
	rc, err := s.Send(ctx, msg)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if rc.ExternalID != "<"+id+">" {
		t.Errorf("receipt id %q, want <%s>", rc.ExternalID, id)
	}

	got := mp.waitFor(id, 1)
	if len(got) != 1 {
		t.Fatalf("messages with Message-ID %s at Mailpit = %d, want 1", id, len(got))
	}
	var full mpMessage
	mp.get("/api/v1/message/"+got[0].ID, &full)
	if full.MessageID != id {
		t.Errorf("Message-ID %q, want %q", full.MessageID, id)
	}
	if len(full.To) != 1 || full.To[0].Address != "jordan@example.com" {
		t.Errorf("To = %+v", full.To)
	}
	if full.From.Address != "billing@countersign.test" {
		t.Errorf("From = %+v", full.From)
	}
	if full.Subject != msg.Subject {
		t.Errorf("Subject = %q", full.Subject)
	}
	if !strings.Contains(full.Text, "invoice INV-0042") {
		t.Errorf("Text = %q", full.Text)
	}
	if m := cardLike.FindString(full.Text + full.HTML); m != "" {
		t.Errorf("body carries a card-like number %q", m)
	}
	if len(full.Attachments) != 1 {
		t.Fatalf("attachments = %+v", full.Attachments)
	}
	a := full.Attachments[0]
	if a.FileName != "invoice-INV-0042.pdf" || a.ContentType != "application/pdf" {
		t.Errorf("attachment %+v", a)
	}
	if data := mp.get("/api/v1/message/"+full.ID+"/part/"+a.PartID, nil); string(data) != string(pdf) {
		t.Errorf("attachment bytes differ: %q", data)
	}
	raw := string(mp.get("/api/v1/message/"+full.ID+"/raw", nil))
	if !strings.Contains(raw, "Message-ID: <"+id+">") && !strings.Contains(raw, "Message-Id: <"+id+">") {
		t.Errorf("raw message has no Message-ID header <%s>", id)
	}
	// The MIME boundaries and the Message-ID are random hex and Mailpit adds its own
	// headers: a digit run there is noise, not a card, so they are taken out first.
	scanned := strings.ReplaceAll(raw, id, "")
	for _, b := range boundary.FindAllStringSubmatch(raw, -1) {
		scanned = strings.ReplaceAll(scanned, b[1], "")
	}
	if m := cardLike.FindString(scanned); m != "" {
		t.Errorf("raw message carries a card-like number %q", m)
	}

	// No idempotency in SMTP: a second send with the same Message-ID is a second
	// message. Only the sent-marker in our database stops a rerun.
	if _, err := s.Send(ctx, msg); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if got := mp.waitFor(id, 2); len(got) != 2 {
		t.Errorf("messages with Message-ID %s after two sends = %d, want 2 (Mailpit stores duplicates)", id, len(got))
	}
}
