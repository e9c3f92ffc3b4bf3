package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/reqlog"
)

// Login outcomes that are not errors of ours: the caller shows a page and creates
// no session.
var (
	ErrDisabled = errors.New("auth: user is disabled")
	ErrNoRole   = errors.New("auth: user has no countersign role")
)

// LoginRequest is a verified sign-in from the identity provider.
type LoginRequest struct {
	Identity Identity
	AuthTime time.Time
	Lifetime time.Duration
	// Replaces is the id of the session the browser held before this login (step-up
	// or a second sign-in); it is revoked in the same transaction.
	Replaces string
	StepUp   bool
}

// LoginResult is what the web layer needs to set the cookie.
type LoginResult struct {
	UserID    int64
	Roles     []string
	Token     []byte
	SessionID string
}

// Login records a verified sign-in in one transaction: the user row (roles
// recomputed from the claim), a new session, the revocation of the session it
// replaces, and the audit entries (a role change, then the login). A disabled user or
// one without a role gets ErrDisabled or ErrNoRole after the refusal was audited, and
// no session.
func Login(ctx context.Context, db *gorm.DB, req LoginRequest) (LoginResult, error) {
	var (
		res     LoginResult
		refusal error
	)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, before, err := upsertUserTx(ctx, tx, req.Identity)
		if err != nil {
			return err
		}
		res.UserID, res.Roles = u.ID, u.Roles
		actor := userActor(u.ID, req.Identity.Email)
		if u.Existed && !sameRoles(before, u.Roles) {
			e := entry(ctx, actor, &u.ID, "user.roles_changed", "user", u.ID, "ok",
				map[string]any{"before": before, "after": u.Roles, "source": "login"})
			if _, err := audit.Append(ctx, tx, e); err != nil {
				return err
			}
		}
		switch {
		case u.Disabled:
			refusal = ErrDisabled
		case len(u.Roles) == 0:
			refusal = ErrNoRole
		}
		if refusal != nil {
			reason := map[error]string{ErrDisabled: "user_disabled", ErrNoRole: "no_role"}[refusal]
			_, err := audit.Append(ctx, tx, entry(ctx, actor, &u.ID, "auth.login", "user", u.ID, "denied",
				map[string]any{"reason": reason}))
			return err
		}
		if req.Replaces != "" {
			if _, err := RevokeSessionTx(ctx, tx, req.Replaces); err != nil {
				return err
			}
		}
		info := reqlog.From(ctx)
		res.Token, res.SessionID, err = CreateSessionTx(ctx, tx, NewSession{UserID: u.ID, AuthTime: req.AuthTime,
			Lifetime: req.Lifetime, IP: info.IP, UserAgent: info.UserAgent})
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE users SET last_login_at = now() WHERE id = ?`, u.ID).Error; err != nil {
			return fmt.Errorf("auth: record last login: %w", err)
		}
		_, err = audit.Append(ctx, tx, entry(ctx, actor, &u.ID, "auth.login", "user", u.ID, "ok",
			map[string]any{"roles": u.Roles, "step_up": req.StepUp}))
		return err
	})
	if err != nil {
		return LoginResult{}, fmt.Errorf("auth: login: %w", err)
	}
	if refusal != nil {
		return res, refusal
	}
	return res, nil
}

// LoginFailed audits a sign-in that failed before we knew who it was: the provider
// answered with an error, the state was missing or reused, the ID token did not
// verify. reason is a short code; nothing from the token is recorded.
func LoginFailed(ctx context.Context, db *gorm.DB, reason string) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, entry(ctx, "anonymous", nil, "auth.login", "", "", "failed",
			map[string]any{"reason": reason}))
		return err
	})
}

// Logout revokes p's session and audits it in one transaction.
func Logout(ctx context.Context, db *gorm.DB, p *Principal) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := RevokeSessionTx(ctx, tx, p.SessionID); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, entry(ctx, p.Label(), &p.UserID, "auth.logout", "user", p.UserID, "ok", nil))
		return err
	})
}

// ConsumeLoginState marks an OIDC state value as used and reports whether it was
// fresh. A callback replayed with the same state (and the login cookie that went
// with it) is refused even though the cookie still verifies. Only a hash is kept,
// for as long as a login cookie can live.
func ConsumeLoginState(ctx context.Context, db *gorm.DB, state string) (bool, error) {
	sum := sha256.Sum256([]byte(state))
	g := db.WithContext(ctx)
	if err := g.Exec(`DELETE FROM oidc_used_states WHERE used_at < now() - interval '1 hour'`).Error; err != nil {
		return false, fmt.Errorf("auth: prune used states: %w", err)
	}
	res := g.Exec(`INSERT INTO oidc_used_states (id) VALUES (?) ON CONFLICT DO NOTHING`, hex.EncodeToString(sum[:]))
	if res.Error != nil {
		return false, fmt.Errorf("auth: consume state: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

func userActor(id int64, email string) string {
	return "user:" + strconv.FormatInt(id, 10) + " " + email
}

// entry builds an audit entry with the request's facts.
func entry(ctx context.Context, actor string, actorID *int64, action, objType string, objID any, outcome string, summary map[string]any) audit.Entry {
	info := reqlog.From(ctx)
	id := ""
	switch v := objID.(type) {
	case int64:
		id = strconv.FormatInt(v, 10)
	case string:
		id = v
	}
	return audit.Entry{Actor: actor, ActorID: actorID, Action: action, ObjectType: objType, ObjectID: id,
		Outcome: outcome, Summary: summary, RequestID: info.RequestID, IP: info.IP, UserAgent: info.UserAgent}
}
