package approval

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/handoff"
	"github.com/countersign/countersign/models"
)

// Ticket events: what happened to a case that its Zendesk ticket is told about.
const (
	TicketCaseDone     = "done"         // every approved action ran
	TicketCaseRejected = "rejected"     // an approver rejected the case
	TicketDisputeWon   = "dispute_won"  // Stripe closed the dispute for us
	TicketDisputeLost  = "dispute_lost" // Stripe closed the dispute for the cardholder
)

// ticketMoves are the case moves a case's ticket follows.
var ticketMoves = map[models.CaseStatus]string{models.StatusDone: TicketCaseDone, models.StatusRejected: TicketCaseRejected}

// QueueTicketUpdateTx writes, inside tx, the job_outbox row that makes the case's
// Zendesk ticket follow event (internal/jobs comments on and re-statuses the ticket
// after tx commits, once per case and event). A case with no Zendesk action has no
// ticket and gets no row. Nothing calls Zendesk here.
func QueueTicketUpdateTx(ctx context.Context, tx *gorm.DB, caseID int64, event string) error {
	err := tx.WithContext(ctx).Exec(`INSERT INTO job_outbox (kind, case_id, event) SELECT 'ticket', ?, ?
		WHERE EXISTS (SELECT 1 FROM actions WHERE case_id = ? AND connector = 'zendesk')`, caseID, event, caseID).Error
	if err != nil {
		return fmt.Errorf("approval: queue ticket update %s of case %d: %w", event, caseID, err)
	}
	return nil
}

// TicketFollowUp is what a case's ticket is told after an event: an internal note
// for agents, a public reply to the verified requester (from the reviewed templates
// below only; empty for none) and the status it takes ("" keeps the current one).
type TicketFollowUp struct {
	Note, Reply, Status string
}

// FollowUp is the ticket update for event on a case of kind. public says whether
// the ticket's requester is a verified customer (else no public reply is planned);
// reason is the rejection reason (one of RejectReasons). ok is false for an event
// the ticket does not follow.
func FollowUp(caseID int64, kind, event string, public bool, reason string) (f TicketFollowUp, ok bool) {
	ref := fmt.Sprintf("Countersign case %d (%s)", caseID, kind)
	switch event {
	case TicketCaseDone:
		f = TicketFollowUp{Note: ref + " is done: every approved action ran."}
		if ticketStatus[kind] == "solved" {
			f.Status = "solved"
		}
	case TicketCaseRejected:
		f = TicketFollowUp{Note: ref + " was rejected (" + reason + "): nothing was refunded or changed. " +
			"Countersign sends the customer no reply for a rejection; answer them in your own words.", Status: "open"}
	case TicketDisputeWon, TicketDisputeLost:
		outcome := "won: the charge stands"
		if event == TicketDisputeLost {
			outcome = "lost: the cardholder keeps the disputed amount"
		}
		f = TicketFollowUp{Note: ref + ": Stripe closed the dispute, " + outcome + ".", Status: "solved"}
		if public {
			f.Reply = handoff.FollowUpReply(event)
		}
	default:
		return TicketFollowUp{}, false
	}
	return f, true
}
