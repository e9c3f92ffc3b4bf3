package approval

import (
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

// A rejection through the real decision writes, in its transaction, one outbox row
// that makes the case's ticket follow it; sending a case back for information
// (a move the ticket does not follow) writes none.
func TestRejectionQueuesTheTicketUpdate(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	id := f.requested(refundSpec(50_000), lead)
	if f.count(`SELECT count(*) FROM actions WHERE case_id = ? AND connector = 'zendesk'`, id) == 0 {
		t.Fatal("the refund plan has no Zendesk action: the test proves nothing")
	}
	other := f.requested(refundSpec(40_000), lead)
	_, err := f.svc.NeedsInfo(ctx, fin, other, "which charge?")
	must(t, err)
	_, err = f.svc.Reject(ctx, fin, id, "duplicate", "charged once only")
	must(t, err)
	if n := f.count(`SELECT count(*) FROM job_outbox WHERE kind = 'ticket' AND case_id = ? AND event = ?`, id, TicketCaseRejected); n != 1 {
		t.Errorf("ticket rows for the rejected case = %d, want 1", n)
	}
	if n := f.count(`SELECT count(*) FROM job_outbox WHERE kind = 'ticket' AND case_id = ?`, other); n != 0 {
		t.Errorf("ticket rows for the case sent back = %d, want 0", n)
	}
}
