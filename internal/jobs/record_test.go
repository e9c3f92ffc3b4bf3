package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/jobs"
)

// Once its ticket and refund exist, a case's record URL is the refund's Stripe
// dashboard page (the billing object wins over the ticket).
func TestRecordURLBecomesTheDestination(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.start()
	e.sb.Stripe.AddCharge(stripefake.Charge{ID: "ch_RecordURL1", Amount: 5000, Currency: "usd"})
	caseID, ids := e.newCase("refund",
		plan{"zendesk", "ticket", jobs.TicketParams{Mode: "create", Subject: "Refund", Body: "Caller asked: a refund", Internal: true}},
		refundPlan("ch_RecordURL1", 5000))
	e.db.Gorm.Exec(`UPDATE cases SET record_url = 'http://console.test/cases/' || id WHERE id = ?`, caseID)
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	e.waitStatus(ids[1], "done", 10*time.Second)
	got := e.text(`SELECT record_url FROM cases WHERE id = ?`, caseID)
	if !strings.HasPrefix(got, "https://dashboard.stripe.com/test/refunds/re_") {
		t.Errorf("record url %q, want the refund's dashboard page", got)
	}
}

// A ticket alone makes the record URL the ticket's agent page.
func TestRecordURLBecomesTheTicket(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.start()
	caseID, ids := e.newCase("payment_blocker",
		plan{"zendesk", "ticket", jobs.TicketParams{Mode: "create", Subject: "Blocked", Body: "Caller asked: unblock", Internal: true}})
	e.db.Gorm.Exec(`UPDATE cases SET record_url = 'http://console.test/cases/' || id WHERE id = ?`, caseID)
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	receipt := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0])
	if got := e.text(`SELECT record_url FROM cases WHERE id = ?`, caseID); !strings.HasSuffix(got, "/agent/tickets/"+receipt) {
		t.Errorf("record url %q, want ticket %s", got, receipt)
	}
}
