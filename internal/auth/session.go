package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// tokenBytes is the size of the random session token the cookie carries.
const tokenBytes = 32

// touchEvery bounds how often a session's last_seen_at is written: idle detection is
// accurate to this much, and a busy user costs one write a minute, not one a request.
const touchEvery = time.Minute

// ErrNoSession means the cookie names no live session: unknown, revoked, expired,
// idle too long, or its user is disabled. The request is anonymous.
var ErrNoSession = errors.New("auth: no live session")

// NewSessionToken returns a fresh random token and the id stored for it. Only the id
// (a SHA-256 hash) is kept in the database, so a copy of the sessions table signs
// nobody in.
func NewSessionToken() (token []byte, id string) {
	token = make([]byte, tokenBytes)
	if _, err := rand.Read(token); err != nil {
		panic("auth: crypto/rand: " + err.Error())
	}
	return token, SessionID(token)
}

// SessionID is the stored id of a session token: hex SHA-256.
func SessionID(token []byte) string {
	sum := sha256.Sum256(token)
	return hex.EncodeToString(sum[:])
}

// NewSession describes a session to create at login.
type NewSession struct {
	UserID    int64
	AuthTime  time.Time // when the identity provider authenticated the user
	Lifetime  time.Duration
	IP        string
	UserAgent string
}

// CreateSessionTx inserts a session inside tx and returns its token (for the cookie)
// and id. Every login gets a new token: a pre-login cookie value is never promoted.
func CreateSessionTx(ctx context.Context, tx *gorm.DB, s NewSession) ([]byte, string, error) {
	token, id := NewSessionToken()
	if s.AuthTime.IsZero() {
		s.AuthTime = time.Now()
	}
	err := tx.WithContext(ctx).Exec(`INSERT INTO sessions (id, user_id, expires_at, auth_time, ip, user_agent)
		VALUES (?, ?, now() + make_interval(secs => ?), ?, ?, ?)`,
		id, s.UserID, s.Lifetime.Seconds(), s.AuthTime.UTC(), s.IP, truncate(s.UserAgent, 256)).Error
	if err != nil {
		return nil, "", fmt.Errorf("auth: create session for user %d: %w", s.UserID, err)
	}
	return token, id, nil
}

// LoadPrincipal returns the principal of the live session id in one query joining
// sessions and users. A revoked, expired or idle session, or a disabled user, gives
// ErrNoSession. stale reports that last_seen_at is older than a minute (call Touch).
func LoadPrincipal(ctx context.Context, db *gorm.DB, id string, idle time.Duration) (p *Principal, stale bool, err error) {
	var (
		roles []byte
		out   Principal
	)
	err = db.WithContext(ctx).Raw(`SELECT s.user_id, u.email, u.name, to_json(u.roles), s.auth_time,
			s.last_seen_at < now() - make_interval(secs => ?)
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = ? AND s.revoked_at IS NULL AND s.expires_at > now()
		  AND s.last_seen_at > now() - make_interval(secs => ?) AND NOT u.disabled`,
		touchEvery.Seconds(), id, idle.Seconds()).Row().Scan(&out.UserID, &out.Email, &out.Name, &roles, &out.AuthTime, &stale)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, ErrNoSession
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: load session: %w", err)
	}
	if err := json.Unmarshal(roles, &out.Roles); err != nil {
		return nil, false, fmt.Errorf("auth: load session: roles: %w", err)
	}
	out.SessionID = id
	out.AuthTime = out.AuthTime.UTC()
	return &out, stale, nil
}

// Touch records activity on session id, at most once per minute.
func Touch(ctx context.Context, db *gorm.DB, id string) error {
	err := db.WithContext(ctx).Exec(`UPDATE sessions SET last_seen_at = now()
		WHERE id = ? AND revoked_at IS NULL AND last_seen_at < now() - make_interval(secs => ?)`,
		id, touchEvery.Seconds()).Error
	if err != nil {
		return fmt.Errorf("auth: touch session: %w", err)
	}
	return nil
}

// RevokeSessionTx ends one session. Revoking an already revoked session is a no-op.
func RevokeSessionTx(ctx context.Context, tx *gorm.DB, id string) (bool, error) {
	res := tx.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL`, id)
	if res.Error != nil {
		return false, fmt.Errorf("auth: revoke session: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// RevokeUserSessionsTx ends every live session of a user and returns how many.
func RevokeUserSessionsTx(ctx context.Context, tx *gorm.DB, userID int64) (int64, error) {
	res := tx.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now()
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > now()`, userID)
	if res.Error != nil {
		return 0, fmt.Errorf("auth: revoke sessions of user %d: %w", userID, res.Error)
	}
	return res.RowsAffected, nil
}

// RecentLogin reports whether the identity provider authenticated p within the last
// within: the step-up check before a high-value action.
func RecentLogin(p *Principal, within time.Duration) bool {
	return p != nil && !p.AuthTime.IsZero() && time.Since(p.AuthTime) <= within
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
