package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/models"
)

// stripeObject is the part of a webhook's data.object the handlers read.
type stripeObject struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Status         string            `json:"status"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Refunded       bool              `json:"refunded"`
	Currency       string            `json:"currency"`
	Charge         json.RawMessage   `json:"charge"`
	Metadata       map[string]string `json:"metadata"`
	FailureReason  string            `json:"failure_reason"`
	Reason         string            `json:"reason"`
}

// chargeID reads the refund's charge (an id or an expanded object).
func (o stripeObject) chargeID() string { return idOf(o.Charge) }

// HandleStripeEvent applies one verified Stripe event in one transaction with its
// delivery row (source 'stripe', dedup key = event id). duplicate is true when the
// event was seen before; nothing changes then.
func (s *Service) HandleStripeEvent(ctx context.Context, ev stripe.Event, raw []byte) (duplicate bool, err error) {
	body, counts, rerr := redact.JSON(raw)
	if rerr != nil {
		body = json.RawMessage("null")
	}
	suppressed, _ := json.Marshal(counts)
	if len(counts) == 0 {
		suppressed = []byte("{}")
	}
	digest := sha256.Sum256(raw)
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var id int64
		err := tx.Raw(`INSERT INTO webhook_deliveries (source, raw_sha256, event_type, call_ref, dedup_key, outcome, body, suppressed)
			VALUES ('stripe', ?, ?, ?, ?, 'stored', ?::jsonb, ?::jsonb) ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id`,
			digest[:], truncate(ev.Type, 200), ev.ID, ev.ID, string(body), string(suppressed)).Scan(&id).Error
		if err != nil {
			return fmt.Errorf("jobs: store stripe delivery: %w", err)
		}
		if id == 0 {
			duplicate = true
			return nil
		}
		var obj stripeObject
		if err := json.Unmarshal(ev.Object, &obj); err != nil {
			return fmt.Errorf("jobs: stripe event %s: %w", ev.ID, err)
		}
		return s.applyStripeEvent(ctx, tx, ev, obj)
	})
	return duplicate, err
}

func (s *Service) applyStripeEvent(ctx context.Context, tx *gorm.DB, ev stripe.Event, o stripeObject) error {
	summary := map[string]any{"event_id": ev.ID, "type": ev.Type, "object_id": o.ID}
	var touched int64
	var err error
	switch {
	case ev.Type == "charge.refunded":
		touched, err = execCount(tx, `UPDATE billing_facts SET refunded = ?, amount_refunded = ?, looked_up_at = now()
			WHERE source = 'stripe' AND object = 'charge' AND external_id = ?`, o.Refunded || o.AmountRefunded >= o.Amount, o.AmountRefunded, o.ID)
	case ev.Type == "refund.updated" || ev.Type == "refund.failed" || ev.Type == "charge.refund.updated":
		touched, err = s.refundChanged(ctx, tx, o.ID, o.Metadata[stripe.MetadataKey], o.Status, o.FailureReason)
		if err == nil && o.Status == "succeeded" {
			err = s.refundSettled(ctx, tx, o)
		}
	case strings.HasPrefix(ev.Type, "charge.dispute."):
		touched, err = s.disputeChanged(ctx, tx, ev)
	case ev.Type == "invoice.payment_failed":
		touched, err = execCount(tx, `UPDATE billing_facts SET status = 'payment_failed', looked_up_at = now()
			WHERE source = 'stripe' AND object = 'invoice' AND external_id = ?`, o.ID)
	case ev.Type == "customer.subscription.updated":
		touched, err = execCount(tx, `UPDATE billing_facts SET status = ?, looked_up_at = now()
			WHERE source = 'stripe' AND object = 'subscription' AND external_id = ?`, o.Status, o.ID)
	default:
		return nil // stored for the record, nothing to update
	}
	if err != nil {
		return err
	}
	summary["rows_updated"] = touched
	return s.auditSystem(ctx, tx, "stripe.event", "stripe_event", 0, "ok", summary)
}

// refundChanged updates the action that created refund refundID (by receipt id or
// idempotency key). A refund Stripe reports as failed or canceled puts the action
// back in front of a person: money did not move as approved.
func (s *Service) refundChanged(ctx context.Context, tx *gorm.DB, refundID, key, status, reason string) (int64, error) {
	var a action
	res := tx.Raw(`SELECT id, case_id, connector, operation, status, sandbox FROM actions
		WHERE connector = 'stripe' AND operation = 'refund' AND (receipt_id = ? OR (? <> '' AND idempotency_key = ?))
		ORDER BY id LIMIT 1 FOR UPDATE`, refundID, key, key).Scan(&a.Action)
	if res.Error != nil {
		return 0, fmt.Errorf("jobs: action of refund %s: %w", refundID, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, nil
	}
	if err := tx.Exec(`UPDATE actions SET receipt = jsonb_set(coalesce(receipt, '{}'::jsonb), '{refund_status}', to_jsonb(?::text)),
		updated_at = now() WHERE id = ?`, status, a.ID).Error; err != nil {
		return 0, fmt.Errorf("jobs: refund status of action %d: %w", a.ID, err)
	}
	if (status == "failed" || status == "canceled") && a.Status != models.ActionNeedsAttention && a.Status != models.ActionFailed {
		msg := "Stripe reports refund " + refundID + " as " + status
		if reason != "" {
			msg += " (" + reason + ")"
		}
		msg += ": the customer has not been refunded."
		if err := s.attention(ctx, tx, &a, models.ActionNeedsAttention, msg); err != nil {
			return 0, err
		}
	}
	return 1, nil
}

// refundSettled completes the action of a refund Stripe reports as succeeded
// while the action was waiting on it (queued with the refund's id): the
// following actions of the plan, such as the confirmation email, may now run.
func (s *Service) refundSettled(ctx context.Context, tx *gorm.DB, o stripeObject) error {
	var a action
	res := tx.Raw(`SELECT id, case_id, connector, operation, status, attempts, sandbox, receipt_id FROM actions
		WHERE connector = 'stripe' AND operation = 'refund' AND receipt_id = ? AND status IN ('queued', 'running')
		ORDER BY id LIMIT 1 FOR UPDATE`, o.ID).Scan(&a)
	if res.Error != nil {
		return fmt.Errorf("jobs: waiting action of refund %s: %w", o.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	raw, _ := json.Marshal(map[string]any{"id": o.ID, "object": "refund", "amount": o.Amount, "currency": o.Currency,
		"status": o.Status, "charge": o.chargeID()})
	return s.completeTx(ctx, tx, &a, connector.Receipt{ExternalID: o.ID, Raw: raw,
		Summary: fmt.Sprintf("refund %s %s %s", o.ID, stripe.FormatMinor(o.Amount, o.Currency), o.Status)})
}

func execCount(tx *gorm.DB, q string, args ...any) (int64, error) {
	res := tx.Exec(q, args...)
	if res.Error != nil {
		return 0, fmt.Errorf("jobs: %w", res.Error)
	}
	return res.RowsAffected, nil
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	s *Service
}

// Work re-reads the refunds of Stripe actions done in the last 7 days: a refund
// that later failed (and whose webhook was lost) still reaches a person.
func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	s := w.s
	if s.conns.Stripe == nil {
		return nil
	}
	var rows []struct {
		ID     int64           `gorm:"column:id"`
		Key    string          `gorm:"column:idempotency_key"`
		Params json.RawMessage `gorm:"column:params"`
	}
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT id, idempotency_key, params FROM actions
		WHERE connector = 'stripe' AND operation = 'refund' AND (
			(status = 'done' AND executed_at > now() - interval '7 days') OR (status = 'queued' AND receipt_id LIKE 're\_%'))
		ORDER BY updated_at DESC LIMIT 200`).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("jobs: refunds to reconcile: %w", err)
	}
	var errs []error
	for _, r := range rows {
		var p RefundParams
		if json.Unmarshal(r.Params, &p) != nil || p.Charge+p.PaymentIntent == "" {
			continue
		}
		start := time.Now()
		rc, err := s.conns.Stripe.FindRefundByMetadata(ctx, p.Charge+p.PaymentIntent, stripe.MetadataKey, r.Key)
		s.meter.Observe(ctx, Stripe, "reconcile", s.conns.Sandboxed(Stripe), start, err)
		if rc == nil {
			errs = append(errs, err)
			continue
		}
		var refund stripeObject
		_ = json.Unmarshal(rc.Raw, &refund)
		err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if _, err := s.refundChanged(ctx, tx, rc.ExternalID, r.Key, refund.Status, ""); err != nil || refund.Status != "succeeded" {
				return err
			}
			return s.refundSettled(ctx, tx, refund)
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
