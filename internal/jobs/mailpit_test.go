package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/email"
	"github.com/countersign/countersign/internal/jobs"
)

// TestSMTPSendIsGuardedByTheSentMarker: SMTP (here Mailpit, a real SMTP server)
// has no idempotency and cannot be searched, so a job that sent and then crashed
// before completing must not send again. The relay's acceptance is recorded the
// moment it answers (action_effects.sent_receipt), so the rerun completes from that
// record without sending; Mailpit holds exactly one message. (A crash between the
// relay's answer and that record leaves the outcome unknown; a person resolves it.)
func TestSMTPSendIsGuardedByTheSentMarker(t *testing.T) {
	smtpAddr := os.Getenv("MAILPIT_SMTP")
	api := strings.TrimRight(os.Getenv("MAILPIT_API"), "/")
	if smtpAddr == "" || api == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MAILPIT_SMTP and MAILPIT_API are not set under CI=true: run the tests through scripts/test.sh (scripts/peers.sh)")
		}
		t.Skip("MAILPIT_SMTP/MAILPIT_API not set; start the peers with eval \"$(scripts/peers.sh)\"")
	}
	host, portText, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	var once sync.Once
	e := newEnv(t, jobs.Options{AfterCall: func(context.Context, int64) (err error) {
		once.Do(func() { err = errors.New("simulated crash after the relay accepted the message") })
		return err
	}})
	sender, err := email.NewSMTP(email.SMTPConfig{Host: host, Port: port, TLS: email.TLSNone, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Connectors().Email, e.svc.Connectors().EmailKind = sender, "smtp"

	caseID, ids := e.newCase("refund", plan{"email", "send_document",
		jobs.EmailParams{To: "jordan@example.com", DocumentType: "refund_confirmation", Amount: 24900, Currency: "USD"}})
	// Mailpit outlives a test run and fresh databases reuse action ids: a key of
	// this run's own keeps the Message-ID apart from earlier runs'.
	e.db.Gorm.Exec(`UPDATE actions SET idempotency_key = idempotency_key || ':' || md5(random()::text) WHERE id = ?`, ids[0])
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 20*time.Second)
	id := strings.Trim(jobs.MessageID(ids[0], e.text(`SELECT idempotency_key FROM actions WHERE id = ?`, ids[0])), "<>")
	// Give a wrong second send time to arrive before counting.
	time.Sleep(300 * time.Millisecond)
	res, err := http.Get(api + "/api/v1/messages?limit=500")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Messages []struct {
			MessageID, Subject string
			To                 []struct{ Address string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range list.Messages {
		if m.MessageID == id {
			n++
			if len(m.To) != 1 || m.To[0].Address != "jordan@example.com" || m.Subject != "Your refund of 249.00 USD" {
				t.Errorf("message %+v", m)
			}
		}
	}
	if n != 1 {
		t.Errorf("messages with Message-ID %s at Mailpit = %d, want exactly 1", id, n)
	}
	if c := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.executed'`); c != 1 {
		t.Errorf("action.executed entries = %d, want 1 (completed once, from the sent record)", c)
	}
}
