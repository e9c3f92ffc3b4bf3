package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/slack"
)

type caseAlertsWorker struct {
	river.WorkerDefaults[CaseAlertsArgs]
	s *Service
}

// Work raises the alerts a new case needs at once.
func (w *caseAlertsWorker) Work(ctx context.Context, job *river.Job[CaseAlertsArgs]) error {
	ctx = connector.WithOrigin(ctx, connector.Origin{CaseID: job.Args.CaseID})
	return w.s.raiseAll(ctx, job.Args.CaseID, ingestReasons)
}

type alertSweepWorker struct {
	river.WorkerDefaults[AlertSweepArgs]
	s *Service
}

// Work runs the alert and exception-queue sweeps.
func (w *alertSweepWorker) Work(ctx context.Context, _ *river.Job[AlertSweepArgs]) error {
	if err := w.s.SweepAlerts(ctx); err != nil {
		return err
	}
	return w.s.SweepExceptions(ctx)
}

// alertChannel is where an alert of reason goes: COUNTERSIGN_SLACK_CHANNELS by
// reason (vip_blocker, chargeback, ...), else its default channel.
func (s *Service) alertChannel(ctx context.Context, reason string) (string, error) {
	id, _, err := s.conns.SlackChannel(ctx, reason)
	return id, err
}

type postCaseAlertWorker struct {
	river.WorkerDefaults[PostCaseAlertArgs]
	s *Service
}

// Work posts the alert once: its id travels in the message metadata, and a rerun
// looks for it before posting again.
func (w *postCaseAlertWorker) Work(ctx context.Context, job *river.Job[PostCaseAlertArgs]) error {
	s := w.s
	var al struct {
		Reason    string    `gorm:"column:reason"`
		Status    string    `gorm:"column:status"`
		Text      string    `gorm:"column:text"`
		CaseID    *int64    `gorm:"column:case_id"`
		CallRef   string    `gorm:"column:call_ref"`
		CreatedAt time.Time `gorm:"column:created_at"`
	}
	res := s.db.Gorm.WithContext(ctx).Raw(`SELECT reason, status, text, case_id, call_ref, created_at FROM case_alerts WHERE id = ?`,
		job.Args.AlertID).Scan(&al)
	if res.Error != nil {
		return fmt.Errorf("jobs: load case alert %d: %w", job.Args.AlertID, res.Error)
	}
	if res.RowsAffected == 0 || al.Status == "posted" {
		return nil
	}
	if al.CaseID != nil {
		ctx = connector.WithOrigin(ctx, connector.Origin{CaseID: *al.CaseID})
	}
	channel, err := s.alertChannel(ctx, al.Reason)
	if err != nil {
		return s.alertFailed(ctx, job.Attempt, job.MaxAttempts, "case_alerts", job.Args.AlertID, err)
	}
	start := time.Now()
	rc, err := s.postSlack(ctx, channel, al.Text, "case-alert-"+strconv.FormatInt(job.Args.AlertID, 10), job.Attempt > 1, al.CreatedAt)
	s.meter.Observe(ctx, Slack, "case alert", s.conns.Sandboxed(Slack), start, err)
	if err != nil {
		return s.alertFailed(ctx, job.JobRow.Attempt, job.JobRow.MaxAttempts, "case_alerts", job.Args.AlertID, err)
	}
	var where struct {
		Channel string `json:"channel"`
	}
	_ = json.Unmarshal(rc.Raw, &where)
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Exec(`UPDATE case_alerts SET status = 'posted', channel = ?, thread_ts = ?, last_error = '', posted_at = now()
			WHERE id = ? AND status <> 'posted'`, where.Channel, rc.ExternalID, job.Args.AlertID).Error
		if err != nil {
			return fmt.Errorf("jobs: case alert %d posted: %w", job.Args.AlertID, err)
		}
		summary := map[string]any{"alert_id": job.Args.AlertID, "reason": al.Reason, "receipt_id": rc.ExternalID, "sandbox": s.conns.Sandboxed(Slack)}
		if al.CaseID == nil { // a Stripe dispute no case concerns yet
			return s.auditSystemRef(ctx, tx, "alert.posted", "stripe_dispute", al.CallRef, "ok", summary)
		}
		return s.auditSystem(ctx, tx, "alert.posted", "case", *al.CaseID, "ok", summary)
	})
}

// alertFailed records a failed post: a provider-requested wait snoozes, a
// permanent error or the last attempt fails the row, anything else retries.
func (s *Service) alertFailed(ctx context.Context, attempt, maxAttempts int, table string, id int64, err error) error {
	if d, ok := connector.RetryAfter(err); ok {
		return river.JobSnooze(max(d, time.Second))
	}
	status := "queued"
	if connector.IsPermanent(err) || attempt >= maxAttempts {
		status = "failed"
	}
	// table is one of two constants, never input.
	if uerr := s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Exec(`UPDATE `+table+` SET status = ?, last_error = ?
		WHERE id = ? AND status <> 'posted'`, status, plainError(err), id).Error; uerr != nil {
		s.log.Warn("jobs: record alert failure", "table", table, "id", id, "err", uerr)
	}
	if status == "failed" {
		return river.JobCancel(err)
	}
	return err
}

type postAlertUpdateWorker struct {
	river.WorkerDefaults[PostAlertUpdateArgs]
	s *Service
}

// Work posts one reply in its alert's thread. Slack lists thread replies only
// through conversations.replies, so a rerun after a lost answer may post the
// reply twice; the root alert itself is never posted twice.
func (w *postAlertUpdateWorker) Work(ctx context.Context, job *river.Job[PostAlertUpdateArgs]) error {
	s := w.s
	var u struct {
		Status   string `gorm:"column:status"`
		Text     string `gorm:"column:text"`
		Channel  string `gorm:"column:channel"`
		ThreadTS string `gorm:"column:thread_ts"`
		CaseID   *int64 `gorm:"column:case_id"`
	}
	res := s.db.Gorm.WithContext(ctx).Raw(`SELECT u.status, u.text, a.channel, a.thread_ts, a.case_id FROM case_alert_updates u
		JOIN case_alerts a ON a.id = u.alert_id WHERE u.id = ?`, job.Args.UpdateID).Scan(&u)
	if res.Error != nil {
		return fmt.Errorf("jobs: load alert update %d: %w", job.Args.UpdateID, res.Error)
	}
	if res.RowsAffected == 0 || u.Status == "posted" {
		return nil
	}
	if s.conns.Slack == nil {
		return s.alertFailed(ctx, job.Attempt, job.MaxAttempts, "case_alert_updates", job.Args.UpdateID, missing("Slack"))
	}
	if u.CaseID != nil {
		ctx = connector.WithOrigin(ctx, connector.Origin{CaseID: *u.CaseID})
	}
	start := time.Now()
	rc, err := s.conns.Slack.PostAlert(ctx, slack.Alert{Channel: u.Channel, Text: u.Text, ThreadTS: u.ThreadTS,
		ActionID: "alert-update-" + strconv.FormatInt(job.Args.UpdateID, 10)})
	s.meter.Observe(ctx, Slack, "alert update", s.conns.Sandboxed(Slack), start, err)
	if err != nil {
		return s.alertFailed(ctx, job.Attempt, job.MaxAttempts, "case_alert_updates", job.Args.UpdateID, err)
	}
	return s.db.Gorm.WithContext(ctx).Exec(`UPDATE case_alert_updates SET status = 'posted', ts = ?, last_error = '' WHERE id = ?`,
		rc.ExternalID, job.Args.UpdateID).Error
}
