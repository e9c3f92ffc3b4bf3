// Package authtest signs test users in without a browser or an identity provider:
// it creates a real users row and a real session in the test database and returns
// the cookie the console would have set, encoded with the configuration's session
// keys. Use it in handler tests that go through the real router (web/webtest.New).
//
//	db := testdb.New(t)
//	cfg := authtest.Config(t)                 // or your own *config.Config
//	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.Default()})
//	req := httptest.NewRequest("GET", "/admin/users", nil)
//	req.AddCookie(authtest.Login(t, db, cfg, auth.Admin))
package authtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
)

// Issuer is the issuer recorded for users made here.
const Issuer = "https://authtest.invalid"

// User describes a test user; zero fields get defaults.
type User struct {
	Subject  string // default: random
	Email    string // default: <subject>@example.com
	Name     string // default: "Test <subject>"
	Roles    []string
	Disabled bool
	AuthTime time.Time // default: now
}

// Config returns a console configuration for tests: plain-http loopback base URL,
// one random session key, the default role map and timeouts.
func Config(t testing.TB) *config.Config {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	base, _ := url.Parse("http://127.0.0.1:8080")
	return &config.Config{
		Addr: "127.0.0.1:8080", BaseURL: base, LogFormat: "text", LogLevel: "info",
		OIDCScopes: []string{"openid", "email", "profile", "groups"}, OIDCRolesClaim: "groups",
		RoleMap: map[string][]string{"support-leads": {auth.SupportLead}, "finance-approvers": {auth.FinanceApprover},
			"admins": {auth.Admin}, "auditors": {auth.Auditor}},
		SessionKeys: [][]byte{key}, SessionIdle: 30 * time.Minute, SessionLifetime: 12 * time.Hour,
		// Tests run every connector without credentials against the fakes, as dev does.
		Sandbox: []string{"all"},
	}
}

// Login creates a user holding roles and a live session, and returns the session
// cookie for cfg (name and keys). With no roles the user has none (a signed-in user
// the console still refuses).
func Login(t testing.TB, db *database.DB, cfg *config.Config, roles ...string) *http.Cookie {
	t.Helper()
	_, c := NewSession(t, db, cfg, User{Roles: roles})
	return c
}

// NewSession creates u and a live session for it; it returns the user id and the
// session cookie.
func NewSession(t testing.TB, db *database.DB, cfg *config.Config, u User) (int64, *http.Cookie) {
	t.Helper()
	id := CreateUser(t, db, u)
	return id, SessionFor(t, db, cfg, id, u.AuthTime)
}

// CreateUser inserts u and returns its id.
func CreateUser(t testing.TB, db *database.DB, u User) int64 {
	t.Helper()
	if u.Subject == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		u.Subject = "t-" + hex.EncodeToString(b)
	}
	if u.Email == "" {
		u.Email = u.Subject + "@example.com"
	}
	if u.Name == "" {
		u.Name = "Test " + u.Subject
	}
	roles, _ := json.Marshal(append([]string{}, u.Roles...))
	var id int64
	err := db.Gorm.Raw(`INSERT INTO users (issuer, subject, email, name, roles, disabled, last_login_at)
		VALUES (?, ?, ?, ?, ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))), ?, now()) RETURNING id`,
		Issuer, u.Subject, u.Email, u.Name, string(roles), u.Disabled).Row().Scan(&id)
	if err != nil {
		t.Fatalf("authtest: create user: %v", err)
	}
	return id
}

// SessionFor creates a live session for an existing user and returns its cookie.
func SessionFor(t testing.TB, db *database.DB, cfg *config.Config, userID int64, authTime time.Time) *http.Cookie {
	t.Helper()
	if authTime.IsZero() {
		authTime = time.Now()
	}
	token, _, err := auth.CreateSessionTx(context.Background(), db.Gorm, auth.NewSession{
		UserID: userID, AuthTime: authTime, Lifetime: cfg.SessionLifetime})
	if err != nil {
		t.Fatalf("authtest: %v", err)
	}
	return Cookie(t, cfg, token)
}

// Cookie encodes a session token as the console's session cookie for cfg.
func Cookie(t testing.TB, cfg *config.Config, token []byte) *http.Cookie {
	t.Helper()
	https := cfg.BaseURL.Scheme == "https"
	name := auth.SessionCookieName(https)
	v, err := auth.EncodeSessionToken(auth.Codecs(cfg.SessionKeys, "session", cfg.SessionLifetime), name, token)
	if err != nil {
		t.Fatalf("authtest: encode cookie: %v", err)
	}
	return &http.Cookie{Name: name, Value: v, Path: "/", HttpOnly: true, Secure: https, SameSite: http.SameSiteLaxMode}
}
