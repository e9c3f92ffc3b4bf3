package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/handoff"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
)

// disputeObject is the data.object of a charge.dispute.* event (Stripe's dispute:
// amount in minor units, evidence_details.due_by in Unix seconds).
type disputeObject struct {
	ID              string          `json:"id"`
	Amount          int64           `json:"amount"`
	Currency        string          `json:"currency"`
	Charge          json.RawMessage `json:"charge"`
	PaymentIntent   json.RawMessage `json:"payment_intent"`
	Reason          string          `json:"reason"`
	Status          string          `json:"status"`
	EvidenceDetails struct {
		DueBy           *int64 `json:"due_by"`
		HasEvidence     bool   `json:"has_evidence"`
		SubmissionCount int    `json:"submission_count"`
	} `json:"evidence_details"`
}

// idOf reads an expandable field: an id string or an object with an id.
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct{ ID string }
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

func (d disputeObject) dueBy() *time.Time {
	if d.EvidenceDetails.DueBy == nil || *d.EvidenceDetails.DueBy <= 0 {
		return nil
	}
	t := time.Unix(*d.EvidenceDetails.DueBy, 0).UTC()
	return &t
}

// disputeOutcome is the final word Stripe gives: won or lost; "" while open.
func disputeOutcome(status string) string {
	switch status {
	case "won", "lost":
		return status
	}
	return ""
}

// disputeChanged applies a charge.dispute.* event: the dispute row (newest event
// wins), its link to a dispute case (opened on the call whose case concerns the
// charge when there is none), the case's dispute fact and approval deadline
// (evidence_details.due_by), and the outcome once Stripe closes it.
func (s *Service) disputeChanged(ctx context.Context, tx *gorm.DB, ev stripe.Event) (int64, error) {
	var d disputeObject
	if err := json.Unmarshal(ev.Object, &d); err != nil || d.ID == "" {
		return 0, fmt.Errorf("jobs: stripe event %s: not a dispute", ev.ID)
	}
	at := time.Unix(ev.Created, 0).UTC()
	if ev.Created <= 0 {
		at = time.Now().UTC()
	}
	charge, pi := idOf(d.Charge), idOf(d.PaymentIntent)
	res := tx.Exec(`INSERT INTO stripe_disputes AS d (id, charge, payment_intent, amount_minor, currency, reason, status,
			due_by, has_evidence, submission_count, outcome, last_event_at)
		VALUES (?, ?, ?, ?::bigint, upper(?), ?, ?, ?::timestamptz, ?::boolean, ?::integer, ?, ?::timestamptz)
		ON CONFLICT (id) DO UPDATE SET amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
			reason = EXCLUDED.reason, status = EXCLUDED.status, due_by = EXCLUDED.due_by,
			has_evidence = EXCLUDED.has_evidence, submission_count = EXCLUDED.submission_count,
			outcome = EXCLUDED.outcome, last_event_at = EXCLUDED.last_event_at, updated_at = now()
		WHERE d.last_event_at <= EXCLUDED.last_event_at`,
		d.ID, charge, pi, d.Amount, d.Currency, d.Reason, d.Status, d.dueBy(), d.EvidenceDetails.HasEvidence,
		d.EvidenceDetails.SubmissionCount, disputeOutcome(d.Status), at)
	if res.Error != nil {
		return 0, fmt.Errorf("jobs: store dispute %s: %w", d.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, nil // an older event than the one already applied
	}
	caseID, err := s.disputeCase(ctx, tx, d.ID, charge, pi)
	if err != nil {
		return 0, err
	}
	open := disputeOutcome(d.Status) == "" && d.Status != "warning_closed"
	if caseID == 0 {
		if open {
			// No call is about the charge yet: finance hears of it all the same.
			return 0, s.raiseDisputeAlert(ctx, tx, d, charge)
		}
		return 0, nil
	}
	if err := s.disputeFact(tx, caseID, d, charge); err != nil {
		return 0, err
	}
	if o := disputeOutcome(d.Status); o != "" {
		return 1, s.disputeClosed(ctx, tx, caseID, d.ID, o)
	}
	if open {
		return 1, s.raiseChargeback(ctx, tx, caseID)
	}
	return 1, nil
}

// raiseChargeback raises the chargeback alert of a case Stripe reports a dispute
// on, unless the case (or the dispute before it was linked) already raised one.
func (s *Service) raiseChargeback(ctx context.Context, tx *gorm.DB, caseID int64) error {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM case_alerts WHERE case_id = ? AND reason = ?`, caseID, AlertChargeback).Scan(&n).Error; err != nil {
		return fmt.Errorf("jobs: chargeback alerts of case %d: %w", caseID, err)
	}
	if n > 0 {
		return nil
	}
	c, ok, err := loadAlertCase(ctx, tx, caseID)
	if err != nil || !ok {
		return err
	}
	_, err = s.raiseCaseAlert(ctx, tx, c, AlertChargeback)
	return err
}

// raiseDisputeAlert raises the chargeback alert of a dispute no case concerns,
// once per dispute (its id stands in for the call id). The alert is linked to the
// dispute's case when a call about the charge arrives.
func (s *Service) raiseDisputeAlert(ctx context.Context, tx *gorm.DB, d disputeObject, charge string) error {
	dashboard := "https://dashboard.stripe.com"
	if s.conns.Sandboxed(Stripe) {
		dashboard += "/test"
	}
	text := disputeAlertText(d, charge, dashboard, strings.TrimRight(s.opts.BaseURL, "/"), s.opts.Now())
	var ids []int64
	err := tx.Raw(`INSERT INTO case_alerts (case_id, call_ref, reason, text) VALUES (NULL, ?, ?, ?)
		ON CONFLICT (call_ref, reason) DO NOTHING RETURNING id`, d.ID, AlertChargeback, text).Scan(&ids).Error
	if err != nil {
		return fmt.Errorf("jobs: store chargeback alert of dispute %s: %w", d.ID, err)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.insertTx(ctx, tx, PostCaseAlertArgs{AlertID: ids[0]}, nil); err != nil {
		return err
	}
	return s.auditSystemRef(ctx, tx, "alert.raised", "stripe_dispute", d.ID, "ok",
		map[string]any{"reason": AlertChargeback, "alert_id": ids[0], "charge": charge})
}

// disputeAlertText is the chargeback alert of a dispute no call is about: what
// Stripe reported, the impact, how soon evidence is due, the owner and next step,
// and links to the dispute in Stripe and to the console's list of such disputes.
func disputeAlertText(d disputeObject, charge, dashboard, console string, now time.Time) string {
	amount := ""
	if d.Currency != "" {
		amount = " (" + money.Amount{Minor: d.Amount, Currency: strings.ToUpper(d.Currency)}.String() + ")"
	}
	urgency := "high: no evidence due date from Stripe yet"
	deadline := ""
	if due := d.dueBy(); due != nil {
		left := due.Sub(now)
		urgency = "high: evidence due in " + roughDuration(left)
		if left < 72*time.Hour {
			urgency = "critical: evidence due in " + roughDuration(left)
		}
		deadline = " · *Deadline:* " + due.Format("2006-01-02 15:04 UTC")
	}
	reason := ""
	if d.Reason != "" {
		reason = ", reason " + strings.ReplaceAll(d.Reason, "_", " ")
	}
	links := []string{"<" + handoff.StripeURL(dashboard, d.ID) + "|Stripe dispute>"}
	if charge != "" {
		links = append(links, "<"+handoff.StripeURL(dashboard, charge)+"|Stripe charge>")
	}
	if console != "" {
		links = append(links, "<"+console+"/admin/connectors|Unlinked disputes in Countersign>")
	}
	text := ":rotating_light: *" + alertTitles[AlertChargeback] + "*\n*Impact:* " + fmt.Sprintf(alertImpacts[AlertChargeback], amount) +
		"\n*Urgency:* " + urgency +
		"\n*Stripe dispute " + d.ID + "* on charge " + orNone(charge) + " (status " + strings.ReplaceAll(d.Status, "_", " ") + reason + ")" +
		"\n*Customer:* not yet known: no DialNexa call is about this charge" +
		"\n*Object:* dispute " + d.ID + " · *Owner:* Finance · disputes" +
		"\n*Next step:* find the customer and stage evidence in Stripe before the due date" + deadline +
		"\n" + strings.Join(links, " · ")
	return truncate(handoff.Clean(text), 3000)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// roughDuration says d in days or hours, as people say it.
func roughDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "no time: the due date has passed"
	case d < 2*time.Hour:
		return "under 2 hours"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " hours"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

// disputeCase returns the dispute case the dispute is linked to, linking it on
// first sight: the dispute case of the call whose newest case concerns the charge
// (a billing fact or the destination names it), opened on that call when missing.
// 0 when no case concerns the charge.
func (s *Service) disputeCase(ctx context.Context, tx *gorm.DB, disputeID, charge, pi string) (int64, error) {
	var linked []int64
	if err := tx.Raw(`SELECT case_id FROM stripe_disputes WHERE id = ? AND case_id IS NOT NULL`, disputeID).Scan(&linked).Error; err != nil {
		return 0, fmt.Errorf("jobs: case of dispute %s: %w", disputeID, err)
	}
	if len(linked) == 1 {
		return linked[0], nil
	}
	var src []struct {
		ID     int64  `gorm:"column:id"`
		CallID int64  `gorm:"column:call_id"`
		Kind   string `gorm:"column:kind"`
	}
	refs := []string{disputeID}
	for _, r := range []string{charge, pi} {
		if r != "" {
			refs = append(refs, r)
		}
	}
	err := tx.Raw(`SELECT c.id, c.call_id, c.kind FROM cases c
		WHERE c.destination_ref IN ? OR EXISTS (SELECT 1 FROM billing_facts f WHERE f.case_id = c.id
			AND f.object IN ('charge', 'payment_intent', 'dispute') AND f.external_id IN ?)
		ORDER BY (c.kind = 'dispute') DESC, c.id DESC LIMIT 1`, refs, refs).Scan(&src).Error
	if err != nil {
		return 0, fmt.Errorf("jobs: cases of charge %s: %w", charge, err)
	}
	if len(src) == 0 {
		return 0, nil
	}
	caseID := src[0].ID
	if src[0].Kind != "dispute" {
		if caseID, err = s.openDisputeCase(ctx, tx, src[0].CallID, src[0].ID, disputeID); err != nil {
			return 0, err
		}
	}
	if err := tx.Exec(`UPDATE stripe_disputes SET case_id = ? WHERE id = ?`, caseID, disputeID).Error; err != nil {
		return 0, fmt.Errorf("jobs: link dispute %s: %w", disputeID, err)
	}
	// Its chargeback alert, raised before any call was about the charge, now
	// belongs to the case (and its thread follows the case).
	if err := tx.Exec(`UPDATE case_alerts SET case_id = ? WHERE call_ref = ? AND case_id IS NULL`, caseID, disputeID).Error; err != nil {
		return 0, fmt.Errorf("jobs: link alert of dispute %s: %w", disputeID, err)
	}
	return caseID, nil
}

// openDisputeCase opens (or finds) the dispute case of a call, copying what the
// call's other case knows about the customer and the charge.
func (s *Service) openDisputeCase(ctx context.Context, tx *gorm.DB, callID, fromCase int64, disputeID string) (int64, error) {
	var ids []int64
	err := tx.Raw(`INSERT INTO cases (call_id, kind, status, urgency, vip, confidence, reasons, amount_minor, currency,
			destination_type, destination_ref, customer_label, next_step)
		SELECT call_id, 'dispute', 'new', 3, vip, confidence, '["Stripe opened a dispute on the charge"]'::jsonb,
			amount_minor, currency, destination_type, destination_ref, customer_label, 'Stage evidence before the Stripe deadline'
		FROM cases WHERE id = ?
		ON CONFLICT (call_id, kind) DO NOTHING RETURNING id`, fromCase).Scan(&ids).Error
	if err != nil {
		return 0, fmt.Errorf("jobs: open dispute case on call %d: %w", callID, err)
	}
	if len(ids) == 0 {
		if err := tx.Raw(`SELECT id FROM cases WHERE call_id = ? AND kind = 'dispute'`, callID).Scan(&ids).Error; err != nil || len(ids) == 0 {
			return 0, fmt.Errorf("jobs: dispute case of call %d: %v", callID, err)
		}
		return ids[0], nil
	}
	return ids[0], s.auditSystem(ctx, tx, "case.created", "case", ids[0], "ok",
		map[string]any{"kind": "dispute", "from_case": fromCase, "stripe_dispute": disputeID})
}

// disputeFact writes the dispute into the case's billing facts (which the plan and
// the approval deadline read) and moves the case's approval deadline to due_by.
func (s *Service) disputeFact(tx *gorm.DB, caseID int64, d disputeObject, charge string) error {
	detail, _ := json.Marshal(map[string]any{"reason": d.Reason, "charge": charge,
		"has_evidence": d.EvidenceDetails.HasEvidence, "submission_count": d.EvidenceDetails.SubmissionCount})
	err := tx.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status,
			disputed, due_date, detail)
		VALUES (?, 'stripe', 'dispute', ?, ?::bigint, upper(?), ?, true, ?::timestamptz, ?::jsonb)
		ON CONFLICT (case_id, source, object, external_id) DO UPDATE SET status = EXCLUDED.status,
			amount_minor = EXCLUDED.amount_minor, due_date = EXCLUDED.due_date, detail = EXCLUDED.detail, looked_up_at = now()`,
		caseID, d.ID, d.Amount, d.Currency, d.Status, d.dueBy(), string(detail)).Error
	if err != nil {
		return fmt.Errorf("jobs: dispute fact of case %d: %w", caseID, err)
	}
	if err := tx.Exec(`UPDATE billing_facts SET disputed = true, looked_up_at = now()
		WHERE source = 'stripe' AND object = 'charge' AND external_id = ?`, charge).Error; err != nil {
		return fmt.Errorf("jobs: disputed charge %s: %w", charge, err)
	}
	if due := d.dueBy(); due != nil && disputeOutcome(d.Status) == "" {
		err = tx.Exec(`UPDATE cases SET approval_deadline = LEAST(follow_up_deadline, ?::timestamptz), updated_at = now()
			WHERE id = ?`, *due, caseID).Error
		if err != nil {
			return fmt.Errorf("jobs: approval deadline of case %d: %w", caseID, err)
		}
		// Triage's rule, applied to Stripe's date: a chargeback whose response is
		// due within 72 hours is critical; the urgency's reasons say so.
		if due.Sub(s.opts.Now()) <= chargebackCritical {
			why := triage.UrgencyReasonPrefix + triage.UrgencyNames[triage.UrgencyCritical] +
				": chargeback with a response due within 72 hours (Stripe dispute " + d.ID + ")"
			err = tx.Exec(`UPDATE cases SET urgency = ?, updated_at = now(),
					reasons = COALESCE((SELECT jsonb_agg(r) FROM jsonb_array_elements_text(reasons) r WHERE r NOT LIKE ?), '[]'::jsonb)
						|| jsonb_build_array(?::text)
				WHERE id = ? AND urgency < ?`,
				triage.UrgencyCritical, triage.UrgencyReasonPrefix+"%", why, caseID, triage.UrgencyCritical).Error
			if err != nil {
				return fmt.Errorf("jobs: urgency of case %d: %w", caseID, err)
			}
		}
	}
	return nil
}

// chargebackCritical is triage's chargeback window: a response due this soon is
// lost money unless someone acts now.
const chargebackCritical = 72 * time.Hour

// disputeClosed puts Stripe's outcome on the case: the next step says it, the
// dispute fact carries it, and the timeline gets an entry.
func (s *Service) disputeClosed(ctx context.Context, tx *gorm.DB, caseID int64, disputeID, outcome string) error {
	step := "Stripe closed dispute " + disputeID + ": " + strings.ToUpper(outcome[:1]) + outcome[1:]
	if err := tx.Exec(`UPDATE cases SET next_step = ?, approval_deadline = NULL, updated_at = now() WHERE id = ?`, step, caseID).Error; err != nil {
		return fmt.Errorf("jobs: outcome of case %d: %w", caseID, err)
	}
	if err := s.auditSystem(ctx, tx, "dispute.closed", "case", caseID, "ok",
		map[string]any{"stripe_dispute": disputeID, "outcome": outcome}); err != nil {
		return err
	}
	// The customer's Zendesk ticket hears the outcome (a job, after commit).
	event := map[string]string{"won": approval.TicketDisputeWon, "lost": approval.TicketDisputeLost}[outcome]
	return approval.QueueTicketUpdateTx(ctx, tx, caseID, event)
}

// UnlinkedDispute is a dispute no case concerns (no call about its charge yet).
type UnlinkedDispute struct {
	ID          string     `gorm:"column:id"`
	Charge      string     `gorm:"column:charge"`
	AmountMinor int64      `gorm:"column:amount_minor"`
	Currency    string     `gorm:"column:currency"`
	Status      string     `gorm:"column:status"`
	DueBy       *time.Time `gorm:"column:due_by"`
}

// UnlinkedDisputes lists the open disputes without a case, soonest due first.
func UnlinkedDisputes(ctx context.Context, db *gorm.DB) ([]UnlinkedDispute, error) {
	var out []UnlinkedDispute
	err := db.WithContext(ctx).Raw(`SELECT id, charge, amount_minor, currency, status, due_by FROM stripe_disputes
		WHERE case_id IS NULL AND outcome = '' ORDER BY due_by NULLS LAST, id LIMIT 100`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("jobs: unlinked disputes: %w", err)
	}
	return out, nil
}
