package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/models"
)

// action is an action row as the worker sees it, with its effect bookkeeping.
type action struct {
	models.Action
	// Effect is what earlier attempts left (action_effects), read by markRunning.
	Effect models.ActionEffect
}

// prior reports whether an earlier attempt may have reached the other system.
func (a *action) prior() bool { return a.Attempts > 1 }

// since is how long ago the first attempt ran.
func (a *action) since(now time.Time) time.Duration {
	if a.Effect.FirstAttemptAt == nil {
		return 0
	}
	return now.Sub(*a.Effect.FirstAttemptAt)
}

type actionWorker struct {
	river.WorkerDefaults[ActionArgs]
	s *Service
}

func (w *actionWorker) Work(ctx context.Context, job *river.Job[ActionArgs]) error {
	s := w.s
	ctx = connector.WithOrigin(ctx, connector.Origin{CaseID: job.Args.CaseID, ActionID: job.Args.ActionID})
	if job.Attempt == 1 {
		s.meter.startLatency.Observe(time.Since(job.CreatedAt).Seconds())
	}
	a, err := s.begin(ctx, job)
	if err != nil || a == nil {
		return err
	}
	if a.Effect.SentReceipt != nil {
		return s.complete(ctx, a, sentReceipt(a.Effect.SentReceipt))
	}
	rc, callErr := s.execute(ctx, a)
	if callErr == nil && blind(a, s.conns) {
		if err := s.recordSent(ctx, a, rc); err != nil {
			return err
		}
	}
	if callErr == nil && s.opts.AfterCall != nil {
		if err := s.opts.AfterCall(ctx, a.ID); err != nil {
			return err
		}
	}
	if stripe.IsPending(callErr) {
		return s.waitForSettlement(ctx, a, rc, callErr)
	}
	if callErr != nil {
		return s.fail(ctx, a, job, callErr)
	}
	return s.complete(ctx, a, rc)
}

// waitForSettlement keeps an action whose effect exists but is not final (a
// refund Stripe reports as pending) waiting: queued, with the receipt id stored
// so charge.refund.updated or the next poll finds it, and no attempt used. It is
// not done, so nothing after it in the plan (the "we have refunded you" email)
// runs.
func (s *Service) waitForSettlement(ctx context.Context, a *action, rc connector.Receipt, why error) error {
	receipt, _ := json.Marshal(map[string]any{"summary": rc.Summary, "raw": rawOrNull(rc.Raw), "refund_status": "pending"})
	rid, rcpt, msg := rc.ExternalID, string(receipt), "Waiting for Stripe: "+plainError(why)
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return approval.MoveActionTx(ctx, tx, a.ID, models.ActionQueued,
			approval.ActionFields{ReceiptID: &rid, Receipt: &rcpt, LastError: &msg}, audit.Entry{})
	})
	if err != nil {
		return fmt.Errorf("jobs: action %d waits for Stripe: %w", a.ID, err)
	}
	return river.JobSnooze(s.opts.RefundPoll)
}

// errSkip ends begin without running the action and without an error.
var errSkip = errors.New("skip")

// begin locks the action, checks it may run (approved, plan unchanged, earlier
// actions of the case done) and marks it running. It returns nil, nil when there
// is nothing to do, and River's snooze or cancel errors when the job must wait or
// stop.
func (s *Service) begin(ctx context.Context, job *river.Job[ActionArgs]) (*action, error) {
	var a action
	var out error
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("id = ?", job.Args.ActionID).Limit(1).Find(&a.Action)
		if res.Error != nil {
			return fmt.Errorf("jobs: load action %d: %w", job.Args.ActionID, res.Error)
		}
		if res.RowsAffected == 0 {
			out = river.JobCancel(fmt.Errorf("action %d does not exist", job.Args.ActionID))
			return errSkip
		}
		switch a.Status {
		case models.ActionDone, models.ActionCancelled, models.ActionNeedsAttention, models.ActionFailed:
			return errSkip // finished, or waiting for a person (a retry inserts a new job)
		case models.ActionPlanned:
			out = river.JobCancel(fmt.Errorf("action %d is not approved", a.ID))
			return errSkip
		}
		fp, err := s.fp(ctx, tx, a.CaseID)
		if err != nil {
			return err
		}
		if fp != job.Args.Fingerprint {
			msg := "The planned actions changed after the approval; the case must be approved again. Nothing was sent."
			out = river.JobCancel(errors.New("plan fingerprint mismatch"))
			return s.attention(ctx, tx, &a, models.ActionNeedsAttention, msg)
		}
		wait, err := s.waitForEarlier(tx, &a)
		if err != nil {
			return err
		}
		if wait > 0 {
			out = river.JobSnooze(wait)
			return errSkip
		}
		return s.markRunning(ctx, tx, &a)
	})
	switch {
	case errors.Is(err, errSkip):
		return nil, out
	case err != nil:
		return nil, err
	case out != nil:
		return nil, out // committed a needs-attention change
	}
	if a.Connector == Drive && a.Effect.DriveFileID == "" {
		if err := s.reserveDriveID(ctx, &a); err != nil {
			return nil, s.fail(ctx, &a, job, err)
		}
	}
	if blind(&a, s.conns) && a.Effect.SentReceipt == nil {
		if a.Effect.BlindStartedAt != nil {
			msg := "An earlier attempt started sending and its outcome is unknown (" + a.Connector + " cannot be searched). " +
				"Check whether it arrived; retry only if it did not."
			return nil, s.attentionTx(ctx, &a, models.ActionNeedsAttention, msg)
		}
		if err := s.db.Gorm.WithContext(ctx).Exec(`UPDATE action_effects SET blind_started_at = now() WHERE action_id = ?`, a.ID).Error; err != nil {
			return nil, fmt.Errorf("jobs: mark send of action %d: %w", a.ID, err)
		}
	}
	return &a, nil
}

// waitForEarlier returns how long to snooze while earlier actions of the case are
// not done: briefly while they run, a minute while one waits for a person.
func (s *Service) waitForEarlier(tx *gorm.DB, a *action) (time.Duration, error) {
	var earlier []struct {
		Status    string `gorm:"column:status"`
		ReceiptID string `gorm:"column:receipt_id"`
	}
	err := tx.Raw(`SELECT status, receipt_id FROM actions WHERE case_id = ? AND position < ?
		AND status NOT IN ('done', 'cancelled')`, a.CaseID, a.Position).Scan(&earlier).Error
	if err != nil {
		return 0, fmt.Errorf("jobs: earlier actions of case %d: %w", a.CaseID, err)
	}
	wait := time.Duration(0)
	for _, e := range earlier {
		d := 500 * time.Millisecond
		switch {
		case e.Status == "needs_attention" || e.Status == "failed" || e.Status == "planned":
			d = time.Minute
		case e.ReceiptID != "": // waiting for the other system to settle (a pending refund)
			d = s.opts.RefundPoll
		}
		wait = max(wait, d)
	}
	return wait, nil
}

func (s *Service) markRunning(ctx context.Context, tx *gorm.DB, a *action) error {
	err := approval.MoveActionTx(ctx, tx, a.ID, models.ActionRunning, approval.ActionFields{CountAttempt: true}, audit.Entry{})
	if err != nil {
		return fmt.Errorf("jobs: mark action %d running: %w", a.ID, err)
	}
	a.Attempts++
	err = tx.Raw(`INSERT INTO action_effects AS e (action_id, first_attempt_at, last_attempt_at) VALUES (?, now(), now())
		ON CONFLICT (action_id) DO UPDATE SET last_attempt_at = now(),
			first_attempt_at = COALESCE(e.first_attempt_at, now())
		RETURNING drive_file_id, blind_started_at, first_attempt_at, sent_receipt`, a.ID).Row().
		Scan(&a.Effect.DriveFileID, &a.Effect.BlindStartedAt, &a.Effect.FirstAttemptAt, &a.Effect.SentReceipt)
	if err != nil {
		return fmt.Errorf("jobs: effects of action %d: %w", a.ID, err)
	}
	st, err := approval.CaseStatusTx(ctx, tx, a.CaseID)
	if err != nil || st != models.StatusApproved {
		return err
	}
	return approval.MoveCaseTx(ctx, tx, a.CaseID, models.StatusExecuting, audit.Entry{Actor: "system:jobs", Outcome: "ok",
		Summary: map[string]any{"action_id": a.ID}})
}

// recordSent keeps a blind send's receipt the moment the provider accepted it: the
// sent-record a rerun completes from (a crash before complete must neither send
// twice nor ask a person about a send that is known to have happened).
func (s *Service) recordSent(ctx context.Context, a *action, rc connector.Receipt) error {
	b, _ := json.Marshal(map[string]any{"external_id": rc.ExternalID, "summary": rc.Summary, "raw": rawOrNull(rc.Raw)})
	err := s.db.Gorm.WithContext(ctx).Exec(`UPDATE action_effects SET sent_receipt = ?::jsonb WHERE action_id = ?`, string(b), a.ID).Error
	if err != nil {
		return fmt.Errorf("jobs: record send of action %d: %w", a.ID, err)
	}
	return nil
}

func sentReceipt(b []byte) connector.Receipt {
	var v struct {
		ExternalID string          `json:"external_id"`
		Summary    string          `json:"summary"`
		Raw        json.RawMessage `json:"raw"`
	}
	_ = json.Unmarshal(b, &v)
	return connector.Receipt{ExternalID: v.ExternalID, Summary: v.Summary, Raw: v.Raw}
}

// reserveDriveID stores a Drive file id before the first upload, so every attempt
// creates the same file (a retry meets 409 and finds it).
func (s *Service) reserveDriveID(ctx context.Context, a *action) error {
	if s.conns.Drive == nil {
		return nil // execute reports the missing connector
	}
	start := time.Now()
	id, err := s.conns.Drive.GenerateID(ctx)
	s.meter.Observe(ctx, Drive, "generate id", a.Sandbox, start, err)
	if err != nil {
		return err
	}
	err = s.db.Gorm.WithContext(ctx).Raw(`UPDATE action_effects SET drive_file_id = CASE WHEN drive_file_id = '' THEN ? ELSE drive_file_id END
		WHERE action_id = ? RETURNING drive_file_id`, id, a.ID).Scan(&a.Effect.DriveFileID).Error
	if err != nil {
		return fmt.Errorf("jobs: store drive id of action %d: %w", a.ID, err)
	}
	return nil
}

// complete stores the receipt, marks the action done and, when it was the last
// one, the case done: one transaction with the audit entries.
func (s *Service) complete(ctx context.Context, a *action, rc connector.Receipt) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.completeTx(ctx, tx, a, rc)
	})
}

// completeTx is complete inside tx (charge.refund.updated settles a waiting
// refund in its delivery's transaction).
func (s *Service) completeTx(ctx context.Context, tx *gorm.DB, a *action, rc connector.Receipt) error {
	receipt, _ := json.Marshal(map[string]any{"summary": rc.Summary, "raw": rawOrNull(rc.Raw)})
	status, err := approval.ActionStatusTx(ctx, tx, a.ID)
	if err != nil {
		return fmt.Errorf("jobs: lock action %d: %w", a.ID, err)
	}
	if status == models.ActionDone {
		return nil
	}
	rid, rcpt, none := rc.ExternalID, string(receipt), ""
	err = approval.MoveActionTx(ctx, tx, a.ID, models.ActionDone, approval.ActionFields{ReceiptID: &rid, Receipt: &rcpt,
		LastError: &none, Executed: true}, audit.Entry{})
	if err != nil {
		return fmt.Errorf("jobs: complete action %d: %w", a.ID, err)
	}
	if err := s.pointRecordURL(tx, a, rc); err != nil {
		return err
	}
	var left int64
	if err := tx.Raw(`SELECT count(*) FROM actions WHERE case_id = ? AND status NOT IN ('done', 'cancelled')`, a.CaseID).Scan(&left).Error; err != nil {
		return fmt.Errorf("jobs: actions left on case %d: %w", a.CaseID, err)
	}
	if err := s.auditSystem(ctx, tx, "action.executed", "action", a.ID, "ok", map[string]any{
		"case_id": a.CaseID, "connector": a.Connector, "operation": a.Operation, "receipt_id": rc.ExternalID,
		"receipt": rc.Summary, "sandbox": a.Sandbox, "attempts": a.Attempts}); err != nil {
		return err
	}
	if left > 0 {
		return nil
	}
	cs, err := approval.CaseStatusTx(ctx, tx, a.CaseID)
	if err != nil || cs != models.StatusExecuting {
		return err // a case waiting for a person stays there until it is retried
	}
	return approval.MoveCaseTx(ctx, tx, a.CaseID, models.StatusDone, audit.Entry{Actor: "system:jobs",
		Action: "case.executed", Outcome: "ok", Summary: map[string]any{"last_action_id": a.ID}})
}

// fail decides what a failed attempt means: a provider-requested wait snoozes
// (no attempt used), a permanent error needs a person, a temporary one retries
// with backoff until the attempts run out.
func (s *Service) fail(ctx context.Context, a *action, job *river.Job[ActionArgs], callErr error) error {
	msg := plainError(callErr)
	if answered(callErr) {
		// The peer answered with an error: nothing was sent, a rerun may send.
		_ = s.db.Gorm.WithContext(ctx).Exec(`UPDATE action_effects SET blind_started_at = NULL WHERE action_id = ?`, a.ID).Error
	}
	if d, ok := connector.RetryAfter(callErr); ok && !connector.IsPermanent(callErr) {
		s.note(ctx, a, "Waiting "+d.String()+" as the provider asked: "+msg)
		return river.JobSnooze(max(d, time.Second))
	}
	if connector.IsPermanent(callErr) {
		if err := s.attentionTx(ctx, a, models.ActionNeedsAttention, msg); err != nil {
			return err
		}
		return river.JobCancel(callErr)
	}
	if job.Attempt >= job.MaxAttempts {
		full := fmt.Sprintf("Gave up after %d attempts: %s", job.Attempt, msg)
		if err := s.attentionTx(ctx, a, models.ActionFailed, full); err != nil {
			return err
		}
		return callErr // River discards the job; /admin/jobs shows it
	}
	s.note(ctx, a, fmt.Sprintf("Attempt %d of %d failed, will retry: %s", job.Attempt, job.MaxAttempts, msg))
	return callErr
}

// note records a temporary failure on the action row (best effort).
func (s *Service) note(ctx context.Context, a *action, msg string) {
	err := s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		return approval.MoveActionTx(context.WithoutCancel(ctx), tx, a.ID, models.ActionQueued, approval.ActionFields{LastError: &msg}, audit.Entry{})
	})
	if err != nil && !errors.Is(err, approval.ErrIllegalMove) { // not running any more: nothing to note
		s.log.Warn("jobs: note failure", "action_id", a.ID, "err", err)
	}
}

func (s *Service) auditSystem(ctx context.Context, tx *gorm.DB, act, objType string, id int64, outcome string, summary map[string]any) error {
	return s.auditSystemRef(ctx, tx, act, objType, strconv.FormatInt(id, 10), outcome, summary)
}

// auditSystemRef is auditSystem for an object named by an external id (a Stripe
// dispute "du_…").
func (s *Service) auditSystemRef(ctx context.Context, tx *gorm.DB, act, objType, ref, outcome string, summary map[string]any) error {
	_, err := audit.Append(ctx, tx, audit.Entry{Actor: "system:jobs", Action: act, ObjectType: objType,
		ObjectID: ref, Outcome: outcome, Summary: summary})
	if err != nil {
		return fmt.Errorf("jobs: audit %s: %w", act, err)
	}
	return nil
}

// plainError is the failure in words for people: the classified connector error
// (already scrubbed of secrets), or a generic line.
func plainError(err error) string {
	var ce *connector.Error
	if errors.As(err, &ce) {
		return ce.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the call did not finish in time"
	}
	return connector.Scrub(err.Error())
}

// answered reports whether the other system answered (with an error status).
func answered(err error) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && ce.Status != 0 && ce.Code != "bad_response"
}

func rawOrNull(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
