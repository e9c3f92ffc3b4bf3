package approval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/internal/vault"
	"github.com/countersign/countersign/models"
)

// Service runs decisions. OnApproved is called inside the transaction of a final
// approval, after the case is executing and its actions are queued: the lead sets it
// to the connector jobs' enqueuer, so the jobs commit (or roll back) with the
// decision. An error from it rolls the approval back. nil means no jobs are enqueued.
type Service struct {
	DB         *gorm.DB
	OnApproved func(ctx context.Context, tx *gorm.DB, caseID int64, fingerprint string) error
	// RevealRoles may reveal restricted values (default: admin, finance_approver).
	RevealRoles []string
	// Vault opens the restricted values kept for a call; nil: only their kinds
	// (and, for calls stored before the vault, their masks) can be shown.
	Vault *vault.Keyring
	// ConnectorMode says how a connector runs: "real", "sandbox" or "off" (no
	// credentials and not sandboxed). A plan with an action for an off connector
	// cannot be approved. nil: every connector counts as real.
	ConnectorMode func(connector string) string
	// Slack resolves the channel of each alert kind when a plan is made; nil leaves
	// it to the worker (tests).
	Slack SlackRouter
}

// offConnectors refuses a plan that needs a connector that is off.
func (s *Service) offConnectors(acts []Action) error {
	if s.ConnectorMode == nil {
		return nil
	}
	var off []string
	for _, a := range acts {
		if a.Status != "cancelled" && s.ConnectorMode(a.Connector) == "off" && !slices.Contains(off, a.Connector) {
			off = append(off, a.Connector)
		}
	}
	if len(off) == 0 {
		return nil
	}
	return apperr.Invalidf("This plan needs the %s connector, which is off: it has no credentials and is not sandboxed. An admin must configure it (or set COUNTERSIGN_SANDBOX) before the case can be approved.", strings.Join(off, ", "))
}

// Result says where a decision left the case.
type Result struct {
	Status      models.CaseStatus
	Approvals   int // live approvals of the current plan
	Required    int // approvals the policy requires (0: automatic)
	Fingerprint string
}

// Reject reasons.
var RejectReasons = []string{"duplicate", "not_eligible", "fraud_suspected", "customer_withdrew", "insufficient_evidence", "other"}

// DefaultRevealRoles may reveal restricted values unless RevealRoles says otherwise.
var DefaultRevealRoles = auth.Revealers

func (s *Service) revealRoles() []string {
	if len(s.RevealRoles) > 0 {
		return s.RevealRoles
	}
	return DefaultRevealRoles
}

// entry is an audit entry by p (nil: the system) about case id.
func entry(ctx context.Context, p *auth.Principal, action string, caseID int64, summary map[string]any) audit.Entry {
	info := reqlog.From(ctx)
	e := audit.Entry{Actor: "system", Action: action, ObjectType: "case", ObjectID: strconv.FormatInt(caseID, 10),
		Summary: summary, RequestID: info.RequestID, IP: info.IP, UserAgent: info.UserAgent}
	if p != nil {
		uid := p.UserID
		e.Actor, e.ActorID = p.Label(), &uid
	}
	return e
}

// appendAll writes the decision's audit entries inside its transaction.
func appendAll(ctx context.Context, tx *gorm.DB, entries []audit.Entry) error {
	for _, e := range entries {
		if _, err := audit.Append(ctx, tx, e); err != nil {
			return fmt.Errorf("approval: audit %s: %w", e.Action, err)
		}
	}
	return nil
}

// recordDecision adds a row to the case's decision history.
func recordDecision(tx *gorm.DB, caseID int64, decision string, p *auth.Principal, reason, note, fp string) error {
	var actorID *int64
	label := "policy:automatic"
	if p != nil {
		uid := p.UserID
		actorID, label = &uid, p.Label()
	}
	err := tx.Exec(`INSERT INTO case_decisions (case_id, decision, actor_id, actor_label, reason, note, fingerprint)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, caseID, decision, actorID, label, reason, note, fp).Error
	if err != nil {
		return fmt.Errorf("approval: record %s on case %d: %w", decision, caseID, err)
	}
	return nil
}

// proposer reports whether user requested, edited (before approval or after a
// failure) or re-requested the case.
func proposer(tx *gorm.DB, c *caseData, userID int64) (bool, error) {
	if c.RequestedBy != nil && *c.RequestedBy == userID {
		return true, nil
	}
	var n int64
	err := tx.Raw(`SELECT count(*) FROM case_decisions WHERE case_id = ? AND actor_id = ?
		AND decision IN ('requested', 'edited', 'info_added', '`+decisionReplanned+`')`, c.ID, userID).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("approval: proposers of case %d: %w", c.ID, err)
	}
	return n > 0, nil
}

// alreadyDecided is the conflict for a decision on a case no longer awaiting one.
func alreadyDecided(tx *gorm.DB, c *caseData) error {
	var last []struct {
		Decision string    `gorm:"column:decision"`
		Label    string    `gorm:"column:actor_label"`
		At       time.Time `gorm:"column:at"`
	}
	err := tx.Raw(`SELECT decision, actor_label, at FROM case_decisions WHERE case_id = ?
		AND decision IN ('approved', 'auto_approved', 'rejected', 'needs_info') ORDER BY id DESC LIMIT 1`, c.ID).Scan(&last).Error
	if err != nil {
		return fmt.Errorf("approval: last decision of case %d: %w", c.ID, err)
	}
	switch {
	case c.Status == models.StatusNew || c.Status == models.StatusTriaged:
		return apperr.Conflictf("Case %d is %s: approval has not been requested yet.", c.ID, c.Status)
	case len(last) == 0:
		return apperr.Conflictf("Case %d is %s and cannot take this decision.", c.ID, c.Status)
	}
	verb := map[string]string{"approved": "approved", "auto_approved": "approved", "rejected": "rejected",
		"needs_info": "sent back for information"}[last[0].Decision]
	return apperr.Conflictf("Case %d was already %s by %s at %s (now %s).", c.ID, verb, last[0].Label,
		last[0].At.UTC().Format("2006-01-02 15:04 UTC"), c.Status)
}

// liveApprovals are the approvals of fp not voided.
type liveApproval struct {
	ApproverID *int64    `gorm:"column:approver_id"`
	Label      string    `gorm:"column:approver_label"`
	At         time.Time `gorm:"column:created_at"`
}

func loadLiveApprovals(tx *gorm.DB, caseID int64, fp string) ([]liveApproval, error) {
	var rows []liveApproval
	err := tx.Raw(`SELECT approver_id, approver_label, created_at FROM approvals
		WHERE case_id = ? AND voided_at IS NULL AND fingerprint = ? ORDER BY id`, caseID, fp).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("approval: approvals of case %d: %w", caseID, err)
	}
	return rows, nil
}

// voidApprovals voids every live approval of a plan other than fp.
func voidApprovals(tx *gorm.DB, caseID int64, fp, why string) (int64, error) {
	res := tx.Exec(`UPDATE approvals SET voided_at = now(), void_reason = ?
		WHERE case_id = ? AND voided_at IS NULL AND fingerprint <> ?`, why, caseID, fp)
	if res.Error != nil {
		return 0, fmt.Errorf("approval: void approvals of case %d: %w", caseID, res.Error)
	}
	return res.RowsAffected, nil
}
