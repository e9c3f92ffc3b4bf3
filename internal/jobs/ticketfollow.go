package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/zendesk"
)

// A case's Zendesk ticket follows the case: approval queues a TicketUpdateArgs job
// (through job_outbox) in the transaction that moves the case, and this worker adds
// the internal note, the reviewed public reply where the requester is a verified
// customer, and the status approval.FollowUp names. Zendesk has no idempotency key
// for updates, so the note carries a marker and a rerun reads the comments first:
// the note is added once, the reply once after it, the status set again harmlessly.

type ticketUpdateWorker struct {
	river.WorkerDefaults[TicketUpdateArgs]
	s *Service
}

// caseTicket is the ticket a case's Zendesk action made or named.
type caseTicket struct {
	ID     int64
	Public bool // requested by the verified customer: public replies allowed
	Kind   string
}

func (w *ticketUpdateWorker) Work(ctx context.Context, job *river.Job[TicketUpdateArgs]) error {
	s, args := w.s, job.Args
	ctx = connector.WithOrigin(ctx, connector.Origin{CaseID: args.CaseID})
	t, err := s.caseTicket(ctx, args.CaseID)
	if err != nil || t.ID == 0 {
		return err // no ticket was opened or named: nothing to tell
	}
	reason, err := s.rejectReason(ctx, args)
	if err != nil {
		return err
	}
	f, ok := approval.FollowUp(args.CaseID, t.Kind, args.Event, t.Public, reason)
	if !ok {
		return nil
	}
	if s.conns.Zendesk == nil {
		return s.ticketGiveUp(ctx, args, t, missing("Zendesk"))
	}
	start := time.Now()
	err = s.followTicket(ctx, t.ID, args, f)
	s.meter.Observe(ctx, Zendesk, "ticket update", s.conns.Sandboxed(Zendesk), start, err)
	switch {
	case err == nil:
		return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return s.auditSystem(ctx, tx, "ticket.updated", "case", args.CaseID, "ok", map[string]any{
				"event": args.Event, "ticket_id": t.ID, "status": f.Status, "public_reply": f.Reply != ""})
		})
	case connector.IsPermanent(err) || job.Attempt >= job.MaxAttempts:
		return s.ticketGiveUp(ctx, args, t, err)
	}
	if d, ok := connector.RetryAfter(err); ok {
		return river.JobSnooze(d)
	}
	return err
}

// followTicket adds f's note (with the marker) unless a rerun finds it, then f's
// reply unless it follows the marked note already; the last update sets f.Status.
func (s *Service) followTicket(ctx context.Context, id int64, args TicketUpdateArgs, f approval.TicketFollowUp) error {
	c := s.conns.Zendesk
	marker := fmt.Sprintf("[countersign case %d %s]", args.CaseID, args.Event)
	comments, err := c.Comments(ctx, id)
	if err != nil {
		return err
	}
	noted, replied := -1, false
	for i, cm := range comments {
		if noted < 0 && !cm.Public && strings.Contains(cm.Body, marker) {
			noted = i
		}
		if noted >= 0 && i > noted && cm.Public && strings.TrimSpace(cm.Body) == strings.TrimSpace(f.Reply) {
			replied = true
		}
	}
	needReply := f.Reply != "" && !replied
	if noted < 0 {
		u := zendesk.TicketUpdate{Comment: f.Note + "\n\n" + marker}
		if !needReply {
			u.Status = f.Status
		}
		if _, err := c.UpdateTicket(ctx, id, u); err != nil {
			return err
		}
	}
	if needReply {
		_, err := c.UpdateTicket(ctx, id, zendesk.TicketUpdate{Comment: f.Reply, Public: true, Status: f.Status})
		return err
	}
	if noted >= 0 && f.Status != "" {
		_, err := c.UpdateTicket(ctx, id, zendesk.TicketUpdate{Status: f.Status})
		return err
	}
	return nil
}

// caseTicket finds the case's ticket: the one its done Zendesk action opened (the
// receipt id), else the existing ticket a comment action names.
func (s *Service) caseTicket(ctx context.Context, caseID int64) (caseTicket, error) {
	var rows []struct {
		Kind      string          `gorm:"column:kind"`
		Status    string          `gorm:"column:status"`
		ReceiptID string          `gorm:"column:receipt_id"`
		Params    json.RawMessage `gorm:"column:params"`
	}
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT c.kind, a.status, a.receipt_id, a.params FROM actions a
		JOIN cases c ON c.id = a.case_id WHERE a.case_id = ? AND a.connector = 'zendesk' AND a.operation = 'ticket'
		ORDER BY a.position, a.id`, caseID).Scan(&rows).Error
	if err != nil {
		return caseTicket{}, fmt.Errorf("jobs: ticket of case %d: %w", caseID, err)
	}
	for _, r := range rows {
		var p TicketParams
		if json.Unmarshal(r.Params, &p) != nil {
			continue
		}
		if p.Mode == "comment" {
			if id, err := p.ticketID(); err == nil {
				return caseTicket{ID: id, Kind: r.Kind}, nil
			}
			continue
		}
		if id, err := strconv.ParseInt(r.ReceiptID, 10, 64); err == nil && r.Status == "done" && id > 0 {
			return caseTicket{ID: id, Public: p.RequesterEmail != "" && p.Reply != "", Kind: r.Kind}, nil
		}
	}
	return caseTicket{}, nil
}

// rejectReason is the reason code of the case's rejection (never the free note).
func (s *Service) rejectReason(ctx context.Context, args TicketUpdateArgs) (string, error) {
	if args.Event != approval.TicketCaseRejected {
		return "", nil
	}
	var reason string
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT reason FROM case_decisions WHERE case_id = ? AND decision = 'rejected'
		ORDER BY id DESC LIMIT 1`, args.CaseID).Scan(&reason).Error
	if err != nil {
		return "", fmt.Errorf("jobs: rejection of case %d: %w", args.CaseID, err)
	}
	if reason == "" {
		reason = "no reason recorded"
	}
	return reason, nil
}

// ticketGiveUp records that the ticket could not be updated (Zendesk refused, or
// every attempt failed) and raises an alert for a person, in one transaction; the
// job ends there.
func (s *Service) ticketGiveUp(ctx context.Context, args TicketUpdateArgs, t caseTicket, cause error) error {
	msg := plainError(cause)
	err := s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		if err := s.auditSystem(ctx, tx, "ticket.update_failed", "case", args.CaseID, "error", map[string]any{
			"event": args.Event, "ticket_id": t.ID, "error": msg}); err != nil {
			return err
		}
		text := fmt.Sprintf(":warning: Countersign: Zendesk ticket #%d of case #%d was not updated after the case's %s event: %s. "+
			"Update the ticket (or open a follow-up ticket) by hand.%s", t.ID, args.CaseID, args.Event, msg, s.caseLink(args.CaseID))
		return s.raiseAlert(ctx, tx, args.CaseID, 0, "ticket_update_failed", text)
	})
	if err != nil {
		return err
	}
	return river.JobCancel(cause)
}
