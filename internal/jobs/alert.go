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
)

type alertWorker struct {
	river.WorkerDefaults[AlertArgs]
	s *Service
}

// Work posts the alert once: the alert id travels in the message metadata, and a
// rerun looks for it before posting again.
func (w *alertWorker) Work(ctx context.Context, job *river.Job[AlertArgs]) error {
	s := w.s
	var al struct {
		Status    string    `gorm:"column:status"`
		Text      string    `gorm:"column:text"`
		CreatedAt time.Time `gorm:"column:created_at"`
	}
	res := s.db.Gorm.WithContext(ctx).Raw(`SELECT status, text, created_at FROM connector_alerts WHERE id = ?`, job.Args.AlertID).Scan(&al)
	if res.Error != nil {
		return fmt.Errorf("jobs: load alert %d: %w", job.Args.AlertID, res.Error)
	}
	if res.RowsAffected == 0 || al.Status == "done" {
		return nil
	}
	if s.conns.Slack == nil {
		s.finishAlert(ctx, job.Args.AlertID, "failed", "", errNoSlack.Error())
		return river.JobCancel(errNoSlack)
	}
	ref := "alert-" + strconv.FormatInt(job.Args.AlertID, 10)
	start := time.Now()
	channel, _, err := s.conns.SlackChannel(ctx, "attention")
	var rc connector.Receipt
	if err == nil {
		rc, err = s.postSlack(ctx, channel, al.Text, ref, job.Attempt > 1, al.CreatedAt)
	}
	s.meter.Observe(ctx, Slack, "alert", s.conns.Sandboxed(Slack), start, err)
	if err != nil {
		msg := plainError(err)
		if d, ok := connector.RetryAfter(err); ok {
			return river.JobSnooze(max(d, time.Second))
		}
		if connector.IsPermanent(err) || job.Attempt >= job.MaxAttempts {
			s.finishAlert(ctx, job.Args.AlertID, "failed", "", msg)
			return river.JobCancel(err)
		}
		s.finishAlert(ctx, job.Args.AlertID, "queued", "", msg)
		return err
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		raw, _ := json.Marshal(map[string]string{"summary": rc.Summary})
		_ = raw
		err := tx.Exec(`UPDATE connector_alerts SET status = 'done', receipt_id = ?, last_error = '', executed_at = now()
			WHERE id = ? AND status <> 'done'`, rc.ExternalID, job.Args.AlertID).Error
		if err != nil {
			return fmt.Errorf("jobs: complete alert %d: %w", job.Args.AlertID, err)
		}
		return s.auditSystem(ctx, tx, "alert.sent", "alert", job.Args.AlertID, "ok",
			map[string]any{"receipt_id": rc.ExternalID, "sandbox": s.conns.Sandboxed(Slack)})
	})
}

func (s *Service) finishAlert(ctx context.Context, id int64, status, receipt, msg string) {
	err := s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Exec(`UPDATE connector_alerts SET status = ?, receipt_id = ?, last_error = ?
		WHERE id = ? AND status <> 'done'`, status, receipt, msg, id).Error
	if err != nil {
		s.log.Warn("jobs: update alert", "alert_id", id, "err", err)
	}
}
