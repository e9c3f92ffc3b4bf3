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
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
)

// Finance alerts go out when something happens, not when an approval runs: the
// ingest transaction writes an 'alerts' outbox row for a case that may need one
// (CaseAlertsArgs), and a periodic sweep (AlertSweepArgs) raises the alerts of
// events (an approval deadline about to be missed, a large amount waiting on
// approval) and queues a thread reply for every later change of an alerted case.
// case_alerts is unique by (DialNexa call id, reason): one message per call and
// reason, however often the case is looked at.

// Alert reasons (case_alerts.reason), also the keys of a per-reason channel map.
const (
	AlertVIPBlocker       = "vip_blocker"
	AlertDuplicateCharge  = "duplicate_charge"
	AlertChargeback       = "chargeback"
	AlertRenewalFailure   = "renewal_failure"
	AlertApprovalDeadline = "approval_deadline"
	AlertAwaitingApproval = "awaiting_approval"
	AlertPromiseDue       = "promise_due" // the reminder of a collections promise to pay
)

// alertTitles and alertImpacts are the reviewed wording of each reason.
var alertTitles = map[string]string{
	AlertVIPBlocker: "VIP payment blocker", AlertDuplicateCharge: "Duplicate charge", AlertChargeback: "Chargeback",
	AlertRenewalFailure: "Renewal failed", AlertApprovalDeadline: "Approval deadline close",
	AlertAwaitingApproval: "Large amount waiting on approval", AlertPromiseDue: "Promise to pay due",
}

var alertImpacts = map[string]string{
	AlertVIPBlocker:       "a VIP customer cannot pay%s: revenue and the account are at risk",
	AlertDuplicateCharge:  "the customer was charged twice%s: money to give back before they dispute it",
	AlertChargeback:       "a chargeback%s: the amount and the dispute fee are lost if the response is late",
	AlertRenewalFailure:   "a renewal failed%s: the subscription lapses unless the payment goes through",
	AlertApprovalDeadline: "the approval deadline is close%s and the case still waits on approval",
	AlertAwaitingApproval: "%s waits on approval",
	AlertPromiseDue:       "the customer promised to pay%s by the follow-up deadline, which has come: check the payment and follow up",
}

// DefaultAlertApprovalWithin is how close to its approval deadline a case that
// still waits on approval raises an alert.
const DefaultAlertApprovalWithin = 4 * time.Hour

// DefaultAlertApprovalAmounts is the amount, in major units per currency ("" for
// any other), from which a case waiting on approval raises an alert.
var DefaultAlertApprovalAmounts = map[string]int64{"JPY": 750_000, "KRW": 7_500_000, "": 5_000}

// alertCase is what the rules read of a case.
type alertCase struct {
	ID               int64      `gorm:"column:id"`
	CallRef          string     `gorm:"column:dialnexa_id"`
	Kind             string     `gorm:"column:kind"`
	Suspected        string     `gorm:"column:suspected_kind"`
	Status           string     `gorm:"column:status"`
	VIP              bool       `gorm:"column:vip"`
	Urgency          int        `gorm:"column:urgency"`
	AmountMinor      *int64     `gorm:"column:amount_minor"`
	Currency         string     `gorm:"column:currency"`
	Reasons          string     `gorm:"column:reasons"`
	Fields           string     `gorm:"column:fields"`
	ApprovalDeadline *time.Time `gorm:"column:deadline"`
}

func loadAlertCase(ctx context.Context, db *gorm.DB, id int64) (alertCase, bool, error) {
	var c alertCase
	res := db.WithContext(ctx).Raw(`SELECT k.id, l.dialnexa_id, k.kind, k.suspected_kind, k.status, k.vip OR l.vip AS vip, k.urgency,
			k.amount_minor, k.currency, k.reasons::text AS reasons, l.fields::text AS fields,
			COALESCE(k.approval_deadline, k.follow_up_deadline) AS deadline
		FROM cases k JOIN calls l ON l.id = k.call_id WHERE k.id = ?`, id).Scan(&c)
	if res.Error != nil {
		return c, false, fmt.Errorf("jobs: load case %d for alerts: %w", id, res.Error)
	}
	return c, res.RowsAffected > 0, nil
}

func (c alertCase) amount() string {
	if c.AmountMinor == nil || c.Currency == "" {
		return ""
	}
	return money.Amount{Minor: *c.AmountMinor, Currency: strings.ToUpper(c.Currency)}.String()
}

// says reports whether the call's fields or the triage reasons (what the caller
// and the summary said; not the urgency explanations, which name rules) carry
// one of the phrases.
func (c alertCase) says(phrases ...string) bool {
	var reasons []string
	_ = json.Unmarshal([]byte(c.Reasons), &reasons)
	var said []string
	for _, r := range reasons {
		if !strings.HasPrefix(r, triage.UrgencyReasonPrefix) {
			said = append(said, r)
		}
	}
	text := strings.ToLower(strings.Join(said, " ") + " " + c.Fields)
	for _, p := range phrases {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

// ingestReasons are the alerts a case raises as soon as it exists; a case the
// claim check already sent to review alerts as the kind it was suspected to be.
func ingestReasons(c alertCase) []string {
	var out []string
	kind := c.Kind
	if kind == "review" && c.Suspected != "" {
		kind = c.Suspected
	}
	switch kind {
	case "payment_blocker":
		if c.VIP {
			out = append(out, AlertVIPBlocker)
		} else if c.Urgency >= triage.UrgencyHigh {
			out = append(out, AlertRenewalFailure)
		}
	case "dispute":
		if c.says("chargeback", "charge back") {
			out = append(out, AlertChargeback)
		}
		if c.says("duplicate", "charged twice", "double charge", "two charges") {
			out = append(out, AlertDuplicateCharge)
		}
	}
	return out
}

// eventReasons are the alerts of a case waiting on approval, and the reminder
// of a collections promise whose follow-up deadline has come, at now.
func (s *Service) eventReasons(c alertCase, now time.Time) []string {
	if c.Kind == "collections" && c.Status != "done" && c.Status != "rejected" &&
		c.ApprovalDeadline != nil && !c.ApprovalDeadline.After(now) {
		return []string{AlertPromiseDue}
	}
	if c.Status != "awaiting_approval" {
		return nil
	}
	var out []string
	within := s.opts.AlertApprovalWithin
	if within <= 0 {
		within = DefaultAlertApprovalWithin
	}
	if c.ApprovalDeadline != nil && c.ApprovalDeadline.Sub(now) <= within {
		out = append(out, AlertApprovalDeadline)
	}
	if c.AmountMinor != nil && c.Currency != "" {
		line := lineFor(s.opts.AlertApprovalAmounts, c.Currency)
		if a, err := money.ParseMajor(strconv.FormatInt(line, 10), c.Currency); err == nil && *c.AmountMinor >= a.Minor {
			out = append(out, AlertAwaitingApproval)
		}
	}
	return out
}

func lineFor(lines map[string]int64, currency string) int64 {
	cur := strings.ToUpper(currency)
	for _, m := range []map[string]int64{lines, DefaultAlertApprovalAmounts} {
		if v, ok := m[cur]; ok {
			return v
		}
	}
	if v, ok := lines[""]; ok {
		return v
	}
	return DefaultAlertApprovalAmounts[""]
}

// alertText is the message: what happened, its impact and urgency, then the
// case's handoff summary (customer, object, owner, next step, deadline, links).
func alertText(c alertCase, reason, summary string) string {
	amount := c.amount()
	if amount != "" && reason != AlertAwaitingApproval {
		amount = " (" + amount + ")"
	}
	level := "normal"
	if c.Urgency >= 0 && c.Urgency < len(triage.UrgencyNames) {
		level = triage.UrgencyNames[c.Urgency]
	}
	var why []string
	var reasons []string
	_ = json.Unmarshal([]byte(c.Reasons), &reasons)
	for _, r := range reasons {
		if rest, ok := strings.CutPrefix(r, triage.UrgencyReasonPrefix); ok {
			why = append(why, rest)
		}
	}
	urgency := level
	if len(why) > 0 {
		urgency = strings.Join(why, "; ")
	}
	return truncate(":rotating_light: *"+alertTitles[reason]+"*\n*Impact:* "+fmt.Sprintf(alertImpacts[reason], amount)+
		"\n*Urgency:* "+urgency+"\n"+summary, 3000)
}

// raiseCaseAlert stores one alert (once per call and reason) and queues its post,
// in tx. It reports whether the alert is new.
func (s *Service) raiseCaseAlert(ctx context.Context, tx *gorm.DB, c alertCase, reason string) (bool, error) {
	sum, err := approval.HandoffTx(ctx, tx, c.ID)
	if err != nil {
		return false, err
	}
	var ids []int64
	err = tx.Raw(`INSERT INTO case_alerts (case_id, call_ref, reason, text) VALUES (?, ?, ?, ?)
		ON CONFLICT (call_ref, reason) DO NOTHING RETURNING id`, c.ID, c.CallRef, reason, alertText(c, reason, sum.Slack())).Scan(&ids).Error
	if err != nil {
		return false, fmt.Errorf("jobs: store %s alert of case %d: %w", reason, c.ID, err)
	}
	if len(ids) == 0 {
		return false, nil
	}
	if err := s.insertTx(ctx, tx, PostCaseAlertArgs{AlertID: ids[0]}, nil); err != nil {
		return false, err
	}
	return true, s.auditSystem(ctx, tx, "alert.raised", "case", c.ID, "ok", map[string]any{"reason": reason, "alert_id": ids[0]})
}

// raiseAll raises each reason of case id that has no alert yet, in one transaction.
func (s *Service) raiseAll(ctx context.Context, id int64, reasons func(alertCase) []string) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, ok, err := loadAlertCase(ctx, tx, id)
		if err != nil || !ok {
			return err
		}
		for _, r := range reasons(c) {
			if _, err := s.raiseCaseAlert(ctx, tx, c, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// SweepAlerts raises the event alerts of cases waiting on approval and queues a
// thread reply for each alerted case whose status changed. The periodic
// AlertSweepArgs job runs it every minute; tests call it directly.
func (s *Service) SweepAlerts(ctx context.Context) error {
	var waiting []int64
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT id FROM cases WHERE (status = 'awaiting_approval'
			AND (SELECT count(*) FROM case_alerts a WHERE a.case_id = cases.id AND a.reason IN (?, ?)) < 2)
		OR (kind = 'collections' AND status NOT IN ('done', 'rejected') AND follow_up_deadline <= ?
			AND NOT EXISTS (SELECT 1 FROM case_alerts a WHERE a.case_id = cases.id AND a.reason = ?))
		ORDER BY id LIMIT 1000`, AlertApprovalDeadline, AlertAwaitingApproval, s.opts.Now(), AlertPromiseDue).Scan(&waiting).Error
	if err != nil {
		return fmt.Errorf("jobs: cases waiting on approval: %w", err)
	}
	now := s.opts.Now()
	for _, id := range waiting {
		// Raising is idempotent per call and reason; cases are re-read inside.
		if err := s.raiseAll(ctx, id, func(c alertCase) []string { return s.eventReasons(c, now) }); err != nil {
			return err
		}
	}
	return s.queueAlertUpdates(ctx)
}

// alertEvents are the case statuses reported in an alert's thread.
var alertEvents = map[string]string{
	"approved": "approved", "executing": "approved: its actions are running", "done": "executed and resolved",
	"rejected": "rejected", "needs_info": "sent back for information", "needs_attention": "needs attention: an action failed",
}

func (s *Service) queueAlertUpdates(ctx context.Context) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []struct {
			ID     int64  `gorm:"column:id"`
			CaseID int64  `gorm:"column:case_id"`
			Status string `gorm:"column:status"`
			Record string `gorm:"column:record_url"`
		}
		err := tx.Raw(`SELECT a.id, a.case_id, c.status, c.record_url FROM case_alerts a JOIN cases c ON c.id = a.case_id
			WHERE a.status = 'posted' AND c.status IN ('approved', 'executing', 'done', 'rejected', 'needs_info', 'needs_attention')
			AND NOT EXISTS (SELECT 1 FROM case_alert_updates u WHERE u.alert_id = a.id AND u.event = c.status)
			ORDER BY a.id LIMIT 500 FOR UPDATE OF a SKIP LOCKED`).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("jobs: alerts to update: %w", err)
		}
		for _, r := range rows {
			text := "Case " + strconv.FormatInt(r.CaseID, 10) + " " + alertEvents[r.Status] + "."
			if r.Record != "" {
				text += " Record: " + r.Record
			}
			var id int64
			err := tx.Raw(`INSERT INTO case_alert_updates (alert_id, event, text) VALUES (?, ?, ?) RETURNING id`,
				r.ID, r.Status, text).Scan(&id).Error
			if err != nil {
				return fmt.Errorf("jobs: alert %d update: %w", r.ID, err)
			}
			if err := s.insertTx(ctx, tx, PostAlertUpdateArgs{UpdateID: id}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// CaseAlertsArgs checks a new case for the alerts it raises at once.
type CaseAlertsArgs struct {
	CaseID int64 `json:"case_id" river:"unique"`
}

// Kind is the River job kind.
func (CaseAlertsArgs) Kind() string { return "case_alerts" }

// InsertOpts puts it on the alerts queue.
func (CaseAlertsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAlerts, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// PostCaseAlertArgs posts one case_alerts row to Slack.
type PostCaseAlertArgs struct {
	AlertID int64 `json:"alert_id" river:"unique"`
}

// Kind is the River job kind.
func (PostCaseAlertArgs) Kind() string { return "post_case_alert" }

// InsertOpts for alert posts.
func (PostCaseAlertArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAlerts, MaxAttempts: 15, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// PostAlertUpdateArgs posts one case_alert_updates row as a thread reply.
type PostAlertUpdateArgs struct {
	UpdateID int64 `json:"update_id" river:"unique"`
}

// Kind is the River job kind.
func (PostAlertUpdateArgs) Kind() string { return "post_alert_update" }

// InsertOpts for thread replies.
func (PostAlertUpdateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAlerts, MaxAttempts: 15, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// AlertSweepArgs runs SweepAlerts (every minute).
type AlertSweepArgs struct{}

// Kind is the River job kind.
func (AlertSweepArgs) Kind() string { return "alert_sweep" }

// InsertOpts for the sweep.
func (AlertSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 3}
}
