package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// Errors of the user administration.
var (
	ErrUserNotFound = errors.New("auth: user not found")
	ErrSelf         = errors.New("auth: administrators cannot disable their own account")
)

// UserSummary is one row of the admin users page.
type UserSummary struct {
	ID             int64
	Email          string
	Name           string
	Roles          []string
	Disabled       bool
	LastLoginAt    *time.Time
	ActiveSessions int
}

// ListUsers returns every user with the number of live sessions, newest login first.
func ListUsers(ctx context.Context, db *gorm.DB) ([]UserSummary, error) {
	rows, err := db.WithContext(ctx).Raw(`SELECT u.id, u.email, u.name, to_json(u.roles), u.disabled, u.last_login_at,
			(SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now())
		FROM users u ORDER BY u.last_login_at DESC NULLS LAST, u.id`).Rows()
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	var out []UserSummary
	for rows.Next() {
		var (
			u     UserSummary
			roles []byte
			last  sql.NullTime
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &roles, &u.Disabled, &last, &u.ActiveSessions); err != nil {
			return nil, fmt.Errorf("auth: list users: %w", err)
		}
		if err := json.Unmarshal(roles, &u.Roles); err != nil {
			return nil, fmt.Errorf("auth: list users: roles: %w", err)
		}
		if last.Valid {
			t := last.Time.UTC()
			u.LastLoginAt = &t
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetDisabled disables or re-enables a user, audited in the same transaction.
// Disabling also ends the user's sessions (they stop working at once either way:
// every request re-reads the users row). An administrator cannot disable themself,
// so the console cannot be locked out by one click. A no-op change is not audited.
func SetDisabled(ctx context.Context, db *gorm.DB, actor *Principal, userID int64, disabled bool) error {
	if disabled && actor != nil && actor.UserID == userID {
		return ErrSelf
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		was, err := lockUser(ctx, tx, userID)
		if err != nil || was == disabled {
			return err
		}
		if err := tx.Exec(`UPDATE users SET disabled = ? WHERE id = ?`, disabled, userID).Error; err != nil {
			return fmt.Errorf("auth: update user %d: %w", userID, err)
		}
		action, summary := "user.enabled", map[string]any{}
		if disabled {
			n, err := RevokeUserSessionsTx(ctx, tx, userID)
			if err != nil {
				return err
			}
			action, summary = "user.disabled", map[string]any{"sessions_ended": n}
		}
		_, err = audit.Append(ctx, tx, entry(ctx, actor.Label(), &actor.UserID, action, "user", userID, "ok", summary))
		return err
	})
}

// EndSessions signs a user out everywhere, audited in the same transaction, and
// returns how many sessions ended.
func EndSessions(ctx context.Context, db *gorm.DB, actor *Principal, userID int64) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		if n, err = RevokeUserSessionsTx(ctx, tx, userID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, entry(ctx, actor.Label(), &actor.UserID, "user.sessions_ended", "user", userID, "ok",
			map[string]any{"sessions_ended": n}))
		return err
	})
	return n, err
}

func lockUser(ctx context.Context, tx *gorm.DB, userID int64) (disabled bool, err error) {
	err = tx.WithContext(ctx).Raw(`SELECT disabled FROM users WHERE id = ? FOR UPDATE`, userID).Row().Scan(&disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("%w: %d", ErrUserNotFound, userID)
	}
	if err != nil {
		return false, fmt.Errorf("auth: load user %d: %w", userID, err)
	}
	return disabled, nil
}
