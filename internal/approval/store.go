package approval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/models"
)

// fpItem is what the fingerprint covers of one action.
type fpItem struct {
	Connector string `json:"connector"`
	Operation string `json:"operation"`
	Params    any    `json:"params"`
}

// fingerprint is SHA-256 (hex) of the canonical JSON of items: compact, map keys
// sorted, numbers as written, no HTML escaping.
func fingerprint(items []fpItem) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(items); err != nil {
		return "", fmt.Errorf("approval: fingerprint: %w", err)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:]), nil
}

// canonicalParams decodes params text keeping numbers exact, so the stored jsonb
// and a plan built in memory give the same fingerprint.
func canonicalParams(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// planFingerprint fingerprints actions built in memory (a preview).
func planFingerprint(acts []Action) (string, error) {
	items := make([]fpItem, 0, len(acts))
	for _, a := range acts {
		raw, err := json.Marshal(a.Params)
		if err != nil {
			return "", fmt.Errorf("approval: encode params: %w", err)
		}
		p, err := canonicalParams(raw)
		if err != nil {
			return "", err
		}
		items = append(items, fpItem{a.Connector, a.Operation, p})
	}
	return fingerprint(items)
}

// CurrentFingerprint is the fingerprint of case caseID's non-cancelled actions in
// position order. The worker compares it with the fingerprint it was enqueued with
// and refuses to act when they differ.
func CurrentFingerprint(ctx context.Context, tx *gorm.DB, caseID int64) (string, error) {
	acts, err := liveActions(ctx, tx, caseID)
	if err != nil {
		return "", err
	}
	return planFingerprint(acts)
}

// liveActions reads the case's non-cancelled actions in position order.
func liveActions(ctx context.Context, tx *gorm.DB, caseID int64) ([]Action, error) {
	var rows []models.Action
	err := tx.WithContext(ctx).Where("case_id = ? AND status <> ?", caseID, models.ActionCancelled).Order("position, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("approval: actions of case %d: %w", caseID, err)
	}
	out := make([]Action, 0, len(rows))
	for _, r := range rows {
		var params map[string]any
		dec := json.NewDecoder(bytes.NewReader(r.Params))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			return nil, fmt.Errorf("approval: action %d params: %w", r.ID, err)
		}
		out = append(out, Action{ID: r.ID, Position: r.Position, Connector: r.Connector, Operation: r.Operation,
			Params: params, Description: r.Description, Status: string(r.Status), Key: r.IdempotencyKey})
	}
	return out, nil
}

// storePlan makes acts the case's plan: unchanged when the fingerprint and the
// descriptions match, descriptions refreshed when only they differ, else the old
// planned actions are cancelled and acts inserted. It reports whether the
// fingerprint changed and returns the current fingerprint.
func storePlan(ctx context.Context, tx *gorm.DB, c *caseData, acts []Action) (string, bool, error) {
	tx = tx.WithContext(ctx)
	old, err := liveActions(ctx, tx, c.ID)
	if err != nil {
		return "", false, err
	}
	oldFP, err := planFingerprint(old)
	if err != nil {
		return "", false, err
	}
	newFP, err := planFingerprint(acts)
	if err != nil {
		return "", false, err
	}
	if len(old) > 0 && oldFP == newFP {
		for i := range old {
			if old[i].Description != acts[i].Description {
				if err := tx.Exec(`UPDATE actions SET description = ?, updated_at = now() WHERE id = ?`, acts[i].Description, old[i].ID).Error; err != nil {
					return "", false, fmt.Errorf("approval: refresh action %d: %w", old[i].ID, err)
				}
			}
		}
		return oldFP, false, nil
	}
	if slices.ContainsFunc(old, func(a Action) bool { return a.Status != "planned" }) {
		return "", false, apperr.Conflictf("Case %d already has actions queued or running; its plan can no longer change.", c.ID)
	}
	if _, err := MoveCaseActionsTx(ctx, tx, c.ID, models.ActionPlanned, models.ActionCancelled); err != nil {
		return "", false, err
	}
	for _, a := range acts {
		if err := insertAction(tx, c, a); err != nil {
			return "", false, err
		}
	}
	return newFP, len(old) > 0 || len(acts) > 0, nil
}

// insertAction stores a with its idempotency key "<call id>:<connector>.<operation>:
// <action id>", fixed in the same statement that creates the row.
func insertAction(tx *gorm.DB, c *caseData, a Action) error {
	params, err := json.Marshal(a.Params)
	if err != nil {
		return fmt.Errorf("approval: encode params: %w", err)
	}
	prefix := c.Call.DialNexaID + ":" + a.Connector + "." + a.Operation + ":"
	err = tx.Exec(`WITH n AS (SELECT nextval(pg_get_serial_sequence('actions', 'id')) AS id)
		INSERT INTO actions (id, case_id, position, connector, operation, params, description, idempotency_key, status)
		SELECT n.id, ?, ?, ?, ?, CAST(? AS jsonb), ?, ? || n.id::text, 'planned' FROM n`,
		c.ID, a.Position, a.Connector, a.Operation, string(params), a.Description, prefix).Error
	if err != nil {
		return fmt.Errorf("approval: insert %s.%s for case %d: %w", a.Connector, a.Operation, c.ID, err)
	}
	return nil
}
