package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
)

// FingerprintFunc computes a case's current plan fingerprint inside tx. Production
// wires internal/approval's CurrentFingerprint; PlanFingerprint is the same rule for
// when that package is not linked (and for tests).
type FingerprintFunc func(ctx context.Context, tx *gorm.DB, caseID int64) (string, error)

// PlanFingerprint is SHA-256 (hex) over the canonical JSON array of the case's
// non-cancelled actions in position order, each {"connector","operation","params"}
// with object keys sorted.
func PlanFingerprint(ctx context.Context, tx *gorm.DB, caseID int64) (string, error) {
	var rows []struct {
		Connector string          `gorm:"column:connector"`
		Operation string          `gorm:"column:operation"`
		Params    json.RawMessage `gorm:"column:params"`
	}
	err := tx.WithContext(ctx).Raw(`SELECT connector, operation, params FROM actions
		WHERE case_id = ? AND status <> 'cancelled' ORDER BY position, id`, caseID).Scan(&rows).Error
	if err != nil {
		return "", fmt.Errorf("jobs: fingerprint case %d: %w", caseID, err)
	}
	type item struct {
		Connector string `json:"connector"`
		Operation string `json:"operation"`
		Params    any    `json:"params"`
	}
	items := make([]item, 0, len(rows))
	for _, r := range rows {
		dec := json.NewDecoder(bytes.NewReader(r.Params))
		dec.UseNumber()
		var p any
		if err := dec.Decode(&p); err != nil {
			return "", fmt.Errorf("jobs: fingerprint case %d: params: %w", caseID, err)
		}
		items = append(items, item{r.Connector, r.Operation, p})
	}
	b, err := json.Marshal(items) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
