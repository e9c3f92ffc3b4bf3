package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/auth"
)

// holdFor is how long an approval waits for the approver's fresh sign-in.
const holdFor = "1 hour"

// HoldForStepUp keeps p's approval of caseID (the plan fingerprint seen and the
// comment) while they sign in again; ResumeApproval completes it. Only p's own
// approve form calls this, so a held approval is always one p submitted.
func (s *Service) HoldForStepUp(ctx context.Context, p *auth.Principal, caseID int64, seen, comment string) error {
	err := s.DB.WithContext(ctx).Exec(`INSERT INTO pending_approvals (user_id, case_id, fingerprint, comment)
		VALUES (?, ?, ?, ?) ON CONFLICT (user_id, case_id)
		DO UPDATE SET fingerprint = excluded.fingerprint, comment = excluded.comment, created_at = now()`,
		p.UserID, caseID, seen, strings.TrimSpace(comment)).Error
	if err != nil {
		return fmt.Errorf("approval: hold approval of case %d: %w", caseID, err)
	}
	return nil
}

// ResumeApproval completes the approval p held for caseID within the last hour, as
// ApproveWithComment would have: held is false when there was none. When the sign-in
// is still not fresh enough the approval stays held.
func (s *Service) ResumeApproval(ctx context.Context, p *auth.Principal, caseID int64) (res Result, held bool, err error) {
	var rows []struct {
		Fingerprint string `gorm:"column:fingerprint"`
		Comment     string `gorm:"column:comment"`
	}
	err = s.DB.WithContext(ctx).Raw(`DELETE FROM pending_approvals WHERE user_id = ? AND case_id = ?
		AND created_at > now() - interval '`+holdFor+`' RETURNING fingerprint, comment`, p.UserID, caseID).Scan(&rows).Error
	if err != nil {
		return Result{}, false, fmt.Errorf("approval: resume approval of case %d: %w", caseID, err)
	}
	if len(rows) == 0 {
		return Result{}, false, nil
	}
	res, err = s.ApproveWithComment(ctx, p, caseID, rows[0].Fingerprint, rows[0].Comment)
	var su *ErrStepUp
	if errors.As(err, &su) {
		if herr := s.HoldForStepUp(ctx, p, caseID, rows[0].Fingerprint, rows[0].Comment); herr != nil {
			return res, true, herr
		}
	}
	return res, true, err
}
