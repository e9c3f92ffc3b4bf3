package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"

	"github.com/countersign/countersign/handlers"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
)

// loginTTL is how long a sign-in attempt may take at the identity provider.
const loginTTL = 10 * time.Minute

// maxStepUpAge bounds ?max_age= (a week); larger values are not a step-up.
const maxStepUpAge = 7 * 24 * 3600

// loginTxn is one sign-in attempt, kept in the encrypted and signed login cookie
// across the round trip to the identity provider.
type loginTxn struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
	MaxAge   int    `json:"m"` // -1: no step-up
}

func (t loginTxn) retryURL() string {
	u := "/login?return=" + url.QueryEscape(auth.SafeReturn(t.Return))
	if t.MaxAge >= 0 {
		u += "&max_age=" + strconv.Itoa(t.MaxAge)
	}
	return u
}

func (a *authenticator) loginCookieName() string {
	if a.s.https {
		return "__Host-countersign-login"
	}
	return "countersign_login"
}

func (a *authenticator) loginCodecs() []securecookie.Codec {
	return auth.Codecs(a.s.cfg.SessionKeys, "login", loginTTL)
}

// loginCookie is Lax (the callback is a cross-site top-level GET that would drop a
// Strict cookie), HttpOnly, Secure under https, and lives ten minutes.
func (a *authenticator) loginCookie(value string, maxAge int) *http.Cookie {
	return sessions.NewCookie(a.loginCookieName(), value, &sessions.Options{Path: "/", MaxAge: maxAge,
		Secure: a.s.https, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// handleLogin starts a sign-in: GET /login?return=/path[&max_age=N]. With max_age the
// provider must authenticate the user afresh (step-up) even when already signed in.
func (a *authenticator) handleLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	txn := loginTxn{Return: auth.SafeReturn(q.Get("return")), MaxAge: -1}
	if v := q.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxStepUpAge {
			a.s.app.AuthMessage(w, r, http.StatusBadRequest, "Sign-in link is not valid",
				"max_age must be a number of seconds.", "Sign in", "/login")
			return
		}
		txn.MaxAge = n
	}
	if p := auth.FromContext(r.Context()); p != nil && txn.MaxAge < 0 {
		http.Redirect(w, r, txn.Return, http.StatusSeeOther)
		return
	}
	prov, err := a.oidc.provider(r.Context())
	if err != nil {
		reqlog.Logger(r.Context()).Error("sign-in unavailable", "err", err)
		a.s.app.AuthMessage(w, r, http.StatusServiceUnavailable, "Sign-in is unavailable",
			"Countersign could not reach the identity provider. Try again in a moment.", "Try again", txn.retryURL())
		return
	}
	txn.State, txn.Nonce, txn.Verifier = randomToken(), randomToken(), oauth2.GenerateVerifier()
	v, err := securecookie.EncodeMulti(a.loginCookieName(), txn, a.loginCodecs()...)
	if err != nil {
		handlers.Fail(w, r, err)
		return
	}
	http.SetCookie(w, a.loginCookie(v, int(loginTTL/time.Second)))
	opts := []oauth2.AuthCodeOption{oidc.Nonce(txn.Nonce), oauth2.S256ChallengeOption(txn.Verifier)}
	if txn.MaxAge >= 0 {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(txn.MaxAge)), oauth2.SetAuthURLParam("prompt", "login"))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, prov.oauth.AuthCodeURL(txn.State, opts...), http.StatusFound)
}

// loginFailure is a refused callback: a reason code for the audit and the log, and
// the sentence the user reads.
type loginFailure struct {
	reason, text string
}

func (f *loginFailure) Error() string { return f.reason }

func failure(reason, text string) *loginFailure { return &loginFailure{reason: reason, text: text} }

// handleCallback finishes a sign-in: GET /auth/callback?code&state. Every refusal is a
// 400 page with a "Try again" link, an audit entry, and no session.
func (a *authenticator) handleCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, a.loginCookie("", -1)) // one attempt, one callback
	w.Header().Set("Cache-Control", "no-store")
	txn := loginTxn{Return: "/", MaxAge: -1}
	id, err := a.verifyCallback(r, &txn)
	if err != nil {
		a.refuseLogin(w, r, txn, err)
		return
	}
	a.completeLogin(w, r, txn, id)
}

// verifiedLogin is what a verified ID token (and, where it is silent, the userinfo
// endpoint) says.
type verifiedLogin struct {
	identity auth.Identity
	authTime time.Time
	values   []string // roles claim values
	overage  bool     // the roles claim was left out for its size (Entra's groups overage)
}

func (a *authenticator) verifyCallback(r *http.Request, txn *loginTxn) (*verifiedLogin, error) {
	q := r.URL.Query()
	c, err := r.Cookie(a.loginCookieName())
	if err != nil || securecookie.DecodeMulti(a.loginCookieName(), c.Value, txn, a.loginCodecs()...) != nil {
		return nil, failure("state_missing", "This sign-in attempt expired or was started in another window.")
	}
	if !equalSecret(q.Get("state"), txn.State) {
		return nil, failure("state_mismatch", "This sign-in answer does not belong to the attempt this browser started.")
	}
	fresh, err := auth.ConsumeLoginState(r.Context(), a.s.db.Gorm, txn.State)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, failure("state_reused", "This sign-in answer was already used.")
	}
	if e := q.Get("error"); e != "" {
		return nil, failure("idp_error", "The identity provider did not sign you in ("+errorCode(e)+").")
	}
	prov, err := a.oidc.provider(r.Context())
	if err != nil {
		return nil, failure("idp_unreachable", "Countersign could not reach the identity provider.")
	}
	if iss := q.Get("iss"); iss != "" && iss != prov.issuer {
		return nil, failure("issuer_mismatch", "The sign-in answer came from a different identity provider.")
	}
	if q.Get("code") == "" {
		return nil, failure("code_missing", "The identity provider's answer has no authorization code.")
	}
	tok, raw, err := a.oidc.exchange(r.Context(), prov, q.Get("code"), txn.Verifier)
	if err != nil {
		reqlog.Logger(r.Context()).Warn("sign-in: token exchange failed", "err", err)
		return nil, failure("exchange_failed", "The identity provider refused to complete the sign-in.")
	}
	return a.verifyIDToken(r, prov, raw, tok, *txn)
}

// idClaims are the standard claims Countersign reads.
type idClaims struct {
	Email    string       `json:"email"`
	Name     string       `json:"name"`
	Username string       `json:"preferred_username"`
	AuthTime *json.Number `json:"auth_time"`
}

func (a *authenticator) verifyIDToken(r *http.Request, prov *oidcProvider, raw string, access *oauth2.Token, txn loginTxn) (*verifiedLogin, error) {
	tok, err := prov.verifier.Verify(r.Context(), raw)
	if err != nil {
		reqlog.Logger(r.Context()).Warn("sign-in: ID token rejected", "err", err)
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, failure("token_expired", "The sign-in token has already expired. If this keeps happening, the clock of this server or of the identity provider is wrong.")
		}
		return nil, failure("token_invalid", "The identity provider's sign-in token could not be verified.")
	}
	if !equalSecret(tok.Nonce, txn.Nonce) {
		return nil, failure("nonce_mismatch", "The sign-in token was issued for a different sign-in attempt.")
	}
	var std idClaims
	var all map[string]any
	if err := tok.Claims(&std); err != nil || tok.Claims(&all) != nil {
		return nil, failure("token_invalid", "The sign-in token's claims could not be read.")
	}
	v := &verifiedLogin{authTime: a.oidc.now(), values: auth.ClaimValues(all, a.s.cfg.OIDCRolesClaim),
		overage: auth.ClaimOverage(all, a.s.cfg.OIDCRolesClaim)}
	if err := a.fillFromUserinfo(r, prov, access, tok.Subject, v, &std); err != nil {
		return nil, err
	}
	if std.AuthTime != nil {
		if secs, err := std.AuthTime.Float64(); err == nil && secs > 0 {
			v.authTime = time.Unix(int64(secs), 0)
		}
	}
	if txn.MaxAge >= 0 && (std.AuthTime == nil || a.oidc.now().Sub(v.authTime) > time.Duration(txn.MaxAge)*time.Second+time.Minute) {
		return nil, failure("reauth_missing", "The identity provider did not ask you to sign in again, which this action requires.")
	}
	name := std.Name
	if name == "" {
		name = std.Username
	}
	v.identity = auth.Identity{Issuer: tok.Issuer, Subject: tok.Subject, Email: std.Email, Name: name,
		Roles: auth.MapRoles(v.values, a.s.cfg.RoleMap)}
	return v, nil
}

// fillFromUserinfo asks the userinfo endpoint for what the ID token left out: the
// roles claim (several providers put groups only there), email and name. The ID
// token wins where both speak. Without roles in the ID token, userinfo must answer.
func (a *authenticator) fillFromUserinfo(r *http.Request, prov *oidcProvider, access *oauth2.Token, subject string, v *verifiedLogin, std *idClaims) error {
	needRoles := len(v.values) == 0
	if !needRoles && std.Email != "" && (std.Name != "" || std.Username != "") {
		return nil
	}
	info, err := a.oidc.userinfo(r.Context(), prov, access, subject)
	if err != nil {
		reqlog.Logger(r.Context()).Warn("sign-in: userinfo failed", "err", err)
		if needRoles {
			return failure("userinfo_failed", "Countersign could not read your groups from the identity provider's userinfo endpoint.")
		}
		return nil
	}
	if needRoles {
		v.values = auth.ClaimValues(info, a.s.cfg.OIDCRolesClaim)
		v.overage = v.overage && len(v.values) == 0
	}
	if std.Email == "" {
		std.Email, _ = info["email"].(string)
	}
	if std.Name == "" {
		std.Name, _ = info["name"].(string)
	}
	if std.Username == "" {
		std.Username, _ = info["preferred_username"].(string)
	}
	return nil
}

var errorCodeSyntax = regexp.MustCompile(`^[a-z_]{1,40}$`)

// errorCode shows the provider's error code only when it looks like one: the
// description, and anything else, is attacker-controlled text.
func errorCode(s string) string {
	if errorCodeSyntax.MatchString(s) {
		return s
	}
	return "error"
}

func (a *authenticator) refuseLogin(w http.ResponseWriter, r *http.Request, txn loginTxn, err error) {
	var f *loginFailure
	if !errors.As(err, &f) {
		handlers.Fail(w, r, err)
		return
	}
	reqlog.Logger(r.Context()).Info("sign-in refused", "reason", f.reason)
	if aerr := auth.LoginFailed(r.Context(), a.s.db.Gorm, f.reason); aerr != nil {
		handlers.Fail(w, r, aerr)
		return
	}
	a.s.app.AuthMessage(w, r, http.StatusBadRequest, "Sign-in failed", f.text, "Try again", txn.retryURL())
}

func (a *authenticator) completeLogin(w http.ResponseWriter, r *http.Request, txn loginTxn, v *verifiedLogin) {
	req := auth.LoginRequest{Identity: v.identity, AuthTime: v.authTime, Lifetime: a.s.cfg.SessionLifetime,
		StepUp: txn.MaxAge >= 0}
	if p := auth.FromContext(r.Context()); p != nil {
		req.Replaces = p.SessionID
	}
	res, err := auth.Login(r.Context(), a.s.db.Gorm, req)
	switch {
	case errors.Is(err, auth.ErrDisabled):
		a.s.app.AuthMessage(w, r, http.StatusForbidden, "Account disabled",
			"Your Countersign account is disabled. Ask an administrator to enable it.", "", "")
		return
	case errors.Is(err, auth.ErrNoRole):
		a.s.app.NoRole(w, r, a.s.cfg.OIDCRolesClaim, auth.MappedValues(a.s.cfg.RoleMap), v.overage)
		return
	case err != nil:
		handlers.Fail(w, r, err)
		return
	}
	s := sessions.NewSession(a.store, a.cookieName)
	opts := a.store.options
	s.Options, s.IsNew, s.ID = &opts, true, res.SessionID
	s.Values[valToken] = res.Token
	if err := a.store.Save(r, w, s); err != nil {
		handlers.Fail(w, r, err)
		return
	}
	reqlog.Logger(r.Context()).Info("signed in", "user_id", res.UserID, "step_up", req.StepUp)
	http.Redirect(w, r, auth.SafeReturn(txn.Return), http.StatusSeeOther)
}

// handleLogout ends the session (POST /logout), then lets the identity provider end
// its own when it offers an end-session endpoint.
func (a *authenticator) handleLogout(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	if p != nil {
		if err := auth.Logout(r.Context(), a.s.db.Gorm, p); err != nil {
			handlers.Fail(w, r, err)
			return
		}
	}
	a.clearCookie(w)
	w.Header().Set("Cache-Control", "no-store")
	target := "/signed-out"
	if p != nil {
		if prov, err := a.oidc.provider(r.Context()); err == nil {
			if u := a.oidc.logoutURL(prov); u != "" {
				target = u
			}
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
