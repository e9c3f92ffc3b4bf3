package approval_test

import (
	"testing"

	"github.com/countersign/countersign/internal/approval"
)

// The ticket follows the case: public replies only from the reviewed set and only
// to a verified requester, never for a rejection; solved only when the case is
// resolved for the customer.
func TestFollowUp(t *testing.T) {
	for _, tc := range []struct {
		kind, event     string
		public          bool
		status          string
		reply, followed bool
	}{
		{"refund", approval.TicketCaseDone, true, "solved", false, true},
		{"dispute", approval.TicketCaseDone, true, "", false, true},
		{"payment_blocker", approval.TicketCaseDone, true, "", false, true},
		{"refund", approval.TicketCaseRejected, true, "open", false, true},
		{"dispute", approval.TicketDisputeWon, true, "solved", true, true},
		{"dispute", approval.TicketDisputeLost, false, "solved", false, true},
		{"refund", "needs_attention", true, "", false, false},
	} {
		f, ok := approval.FollowUp(7, tc.kind, tc.event, tc.public, "duplicate")
		if ok != tc.followed || f.Status != tc.status || (f.Reply != "") != tc.reply || (ok && f.Note == "") {
			t.Errorf("%s %s public=%v: %+v ok=%v; want status %q reply %v followed %v",
				tc.kind, tc.event, tc.public, f, ok, tc.status, tc.reply, tc.followed)
		}
	}
}
