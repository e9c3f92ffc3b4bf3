package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/reqlog"
)

// Session values the store understands. The cookie carries only a random token; all
// of these live in (or come from) the sessions and users rows.
const (
	valPrincipal = "principal" // *auth.Principal of a live session (read)
	valToken     = "token"     // []byte: a token whose row the login transaction created (write)
	valUserID    = "user_id"   // int64: create a session for this user on Save (write)
	valAuthTime  = "auth_time" // time.Time: with valUserID
)

// errBadCookie means a session cookie was present but did not decode: tampered,
// older than the lifetime, or signed by a key that has been removed.
var errBadCookie = errors.New("session: cookie does not decode")

// sessionStore is a gorilla/sessions Store backed by the Postgres sessions table.
// The cookie holds a securecookie-encoded 32-byte token; the table holds its SHA-256
// as the id. Logout, disabling a user and removing a role therefore take effect on the
// next request, everywhere.
type sessionStore struct {
	db       *gorm.DB
	codecs   []securecookie.Codec
	options  sessions.Options
	idle     time.Duration
	lifetime time.Duration
}

func newSessionStore(db *gorm.DB, cfg *config.Config) *sessionStore {
	https := cfg.BaseURL.Scheme == "https"
	return &sessionStore{
		db:     db,
		codecs: auth.Codecs(cfg.SessionKeys, "session", cfg.SessionLifetime),
		options: sessions.Options{Path: "/", MaxAge: int(cfg.SessionLifetime / time.Second),
			Secure: https, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		idle:     cfg.SessionIdle,
		lifetime: cfg.SessionLifetime,
	}
}

// Get returns the request's session, loading it once per request.
func (st *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the request's cookie. It never returns nil: a
// missing cookie, an undecodable one (errBadCookie) or one naming no live session
// (auth.ErrNoSession) all give a new, anonymous session.
func (st *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	opts := st.options
	s.Options, s.IsNew = &opts, true
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return s, nil
	}
	token, err := auth.DecodeSessionToken(st.codecs, name, c.Value)
	if err != nil {
		return s, errBadCookie
	}
	id := auth.SessionID(token)
	p, stale, err := auth.LoadPrincipal(r.Context(), st.db, id, st.idle)
	if err != nil {
		return s, err
	}
	if stale {
		if err := auth.Touch(r.Context(), st.db, id); err != nil {
			reqlog.Logger(r.Context()).Warn("session touch failed", "err", err)
		}
	}
	s.ID, s.IsNew = id, false
	s.Values[valPrincipal] = p
	return s, nil
}

// Save writes the cookie. A session with Options.MaxAge < 0 is revoked and its
// cookie deleted; a new session carrying valToken (created by the login transaction)
// or valUserID (created here) gets a fresh cookie. An existing session needs no write:
// activity is recorded by New.
func (st *sessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	if s.Options.MaxAge < 0 {
		if s.ID != "" {
			if _, err := auth.RevokeSessionTx(r.Context(), st.db, s.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", s.Options))
		return nil
	}
	token, _ := s.Values[valToken].([]byte)
	if token == nil {
		uid, ok := s.Values[valUserID].(int64)
		if !ok || !s.IsNew {
			return nil
		}
		at, _ := s.Values[valAuthTime].(time.Time)
		info := reqlog.From(r.Context())
		var err error
		token, s.ID, err = auth.CreateSessionTx(r.Context(), st.db, auth.NewSession{UserID: uid, AuthTime: at,
			Lifetime: st.lifetime, IP: info.IP, UserAgent: info.UserAgent})
		if err != nil {
			return err
		}
	}
	v, err := auth.EncodeSessionToken(st.codecs, s.Name(), token)
	if err != nil {
		return fmt.Errorf("session: encode cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(s.Name(), v, s.Options))
	return nil
}
