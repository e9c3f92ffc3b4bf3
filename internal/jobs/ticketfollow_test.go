package jobs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/connector/zendesk/zdfake"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/models"
)

// waitTicketAudit waits for the worker's audit entry (ticket.updated or
// ticket.update_failed) of caseID's event.
func (e *env) waitTicketAudit(action string, caseID int64, event string) {
	e.t.Helper()
	e.waitFor(action+" "+event, 10*time.Second, func() bool {
		return e.scalar(`SELECT count(*) FROM audit_log WHERE action = ? AND object_type = 'case' AND object_id = ?
			AND summary->>'event' = ?`, action, fmt.Sprint(caseID), event) > 0
	})
}

// count counts tk's comments with the given visibility containing s.
func count(tk zdfake.Ticket, public bool, s string) int {
	n := 0
	for _, c := range tk.Comments {
		if c.Public == public && strings.Contains(c.Body, s) {
			n++
		}
	}
	return n
}

// reject moves caseID to rejected the way a decision does (setStatus under the case
// lock) with its recorded reason; rollback makes the transaction fail afterwards.
func (e *env) reject(caseID int64, reason string, rollback bool) error {
	return e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO case_decisions (case_id, decision, actor_label, reason, note)
			VALUES (?, 'rejected', 'test approver', ?, 'free text the ticket must not quote')`, caseID, reason).Error
		if err != nil {
			return err
		}
		if err := approval.MoveCaseTx(e.ctx, tx, caseID, models.StatusRejected, audit.Entry{Actor: "test"}); err != nil {
			return err
		}
		if rollback {
			return errors.New("decision rolled back")
		}
		return nil
	})
}

// A dispute case's ticket (public, requested by the verified customer, left open by
// the plan) follows the case: when the case is done it gets one internal note and
// stays open; when Stripe closes the dispute it gets one reviewed public reply, one
// note and is solved — once each, although the first reply was lost in transit and
// the outcome was queued twice (as two webhook deliveries would).
func TestTicketFollowsTheCaseOnceThroughTheOutbox(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	p := ticketPlan("sam@example.com")
	tp := p.params.(jobs.TicketParams)
	tp.Status, tp.Reply = "open", "Hello,\n\nWe have received your dispute.\n\nBilling team"
	p.params = tp
	caseID, ids := e.newCase("dispute", p)
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	e.waitTicketAudit("ticket.updated", caseID, approval.TicketCaseDone)
	var id int64
	fmt.Sscan(e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0]), &id)
	tk, _ := e.sb.Zendesk.Ticket(id)
	if tk.Status != "open" || count(tk, false, "is done") != 1 {
		t.Fatalf("after done: status %q, comments %+v; want open with one done note", tk.Status, tk.Comments)
	}

	e.sb.Zendesk.LoseReply(1) // the first update lands, its answer does not
	for i := 0; i < 2; i++ {
		err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
			return approval.QueueTicketUpdateTx(e.ctx, tx, caseID, approval.TicketDisputeLost)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.waitTicketAudit("ticket.updated", caseID, approval.TicketDisputeLost)
	tk, _ = e.sb.Zendesk.Ticket(id)
	if tk.Status != "solved" {
		t.Errorf("after the dispute closed: status %q, want solved", tk.Status)
	}
	if n := count(tk, false, fmt.Sprintf("[countersign case %d dispute_lost]", caseID)); n != 1 {
		t.Errorf("outcome notes = %d, want 1: %+v", n, tk.Comments)
	}
	if n := count(tk, true, "Your card issuer has closed the dispute"); n != 1 {
		t.Errorf("public outcome replies = %d, want 1: %+v", n, tk.Comments)
	}
	if n := len(tk.Comments); n != 5 {
		t.Errorf("comments = %d, want 5 (reply, note, done note, outcome note, outcome reply): %+v", n, tk.Comments)
	}
	if n := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'zendesk_ticket_update' AND (args->>'case_id')::bigint = ?`, caseID); n != 2 {
		t.Errorf("ticket jobs = %d, want 2 (done, dispute_lost)", n)
	}
}

// A rejection after the ticket exists (a call that named the customer's ticket)
// adds an internal note with the reason code, never the approver's free text, and
// reopens the ticket for an agent; nothing public. A rolled-back rejection queues
// nothing.
func TestTicketFollowsARejectionInternally(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	existing := e.sb.Zendesk.AddTicket("Why was I charged twice?", "")
	caseID, _ := e.newCase("refund", plan{"zendesk", "ticket", map[string]any{"mode": "comment", "ticket_id": existing,
		"note": "Countersign case for the call.", "public": false, "status": "solved"}})
	if err := e.reject(caseID, "duplicate", true); err == nil {
		t.Fatal("rolled-back rejection succeeded")
	}
	if n := e.scalar(`SELECT count(*) FROM job_outbox WHERE case_id = ?`, caseID); n != 0 {
		t.Fatalf("outbox rows after a rolled-back rejection = %d, want 0", n)
	}
	e.start()
	if err := e.reject(caseID, "duplicate", false); err != nil {
		t.Fatal(err)
	}
	e.waitTicketAudit("ticket.updated", caseID, approval.TicketCaseRejected)
	tk, _ := e.sb.Zendesk.Ticket(existing)
	if tk.Status != "open" || len(tk.Comments) != 2 || count(tk, false, "was rejected (duplicate)") != 1 {
		t.Fatalf("ticket %+v: want open with the customer's comment and one rejection note", tk)
	}
	if count(tk, false, "free text") != 0 {
		t.Errorf("the note quotes the approver's free text: %+v", tk.Comments)
	}
}

// Zendesk refuses every update of a closed ticket (422 "Status: closed prevents
// ticket update"): the job stops at once, writes why in the audit log and raises
// an alert for a person instead of retrying.
func TestTicketUpdateOfAClosedTicketNeedsAPerson(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	existing := e.sb.Zendesk.AddTicket("Refund please", "")
	e.sb.Zendesk.Close(existing)
	caseID, _ := e.newCase("refund", plan{"zendesk", "ticket", map[string]any{"mode": "comment", "ticket_id": existing,
		"note": "Countersign case for the call.", "status": "solved"}})
	e.start()
	if err := e.reject(caseID, "not_eligible", false); err != nil {
		t.Fatal(err)
	}
	e.waitTicketAudit("ticket.update_failed", caseID, approval.TicketCaseRejected)
	msg := e.text(`SELECT summary->>'error' FROM audit_log WHERE action = 'ticket.update_failed' AND object_id = ?`, fmt.Sprint(caseID))
	if !strings.Contains(msg, "closed prevents ticket update") {
		t.Errorf("audit error %q, want Zendesk's reason", msg)
	}
	if n := e.scalar(`SELECT count(*) FROM connector_alerts WHERE case_id = ? AND reason = 'ticket_update_failed'`, caseID); n != 1 {
		t.Errorf("alerts = %d, want 1", n)
	}
	e.waitFor("the job to be cancelled", 5*time.Second, func() bool {
		return e.text(`SELECT state FROM river_job WHERE kind = 'zendesk_ticket_update' AND (args->>'case_id')::bigint = ?`, caseID) == "cancelled"
	})
	if n := e.scalar(`SELECT attempt FROM river_job WHERE kind = 'zendesk_ticket_update' AND (args->>'case_id')::bigint = ?`, caseID); n != 1 {
		t.Errorf("attempts = %d, want 1 (a refusal is not retried)", n)
	}
	if tk, _ := e.sb.Zendesk.Ticket(existing); len(tk.Comments) != 1 || tk.Status != "closed" {
		t.Errorf("closed ticket changed: %+v", tk)
	}
}

// A case without a Zendesk action has no ticket to follow: its moves queue nothing.
func TestCaseWithoutTicketQueuesNoTicketUpdate(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	caseID, _ := e.newCase("refund", refundPlan("ch_none", 100))
	if err := e.reject(caseID, "duplicate", false); err != nil {
		t.Fatal(err)
	}
	if n := e.scalar(`SELECT count(*) FROM job_outbox WHERE case_id = ?`, caseID); n != 0 {
		t.Errorf("outbox rows = %d, want 0", n)
	}
}

// Two outbox rows for the same unique job in one dispatch batch used to fail the
// batch (and every batch after it: the rows stayed); now they make one job.
func TestOutboxRepeatsInOneBatchMakeOneJob(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	caseID, _ := e.newCase("dispute", ticketPlan(""))
	err := e.db.Gorm.Exec(`INSERT INTO job_outbox (kind, case_id, event) VALUES ('ticket', ?, 'done'), ('ticket', ?, 'done'),
		('enrich', ?, NULL), ('enrich', ?, NULL)`, caseID, caseID, caseID, caseID).Error
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.DispatchOutbox(e.ctx, 10)
	if err != nil || n != 4 {
		t.Fatalf("dispatched %d rows, err %v; want 4", n, err)
	}
	if got := e.scalar(`SELECT count(*) FROM river_job WHERE kind IN ('zendesk_ticket_update', 'enrich_case')`); got != 2 {
		t.Errorf("jobs = %d, want 2", got)
	}
}
