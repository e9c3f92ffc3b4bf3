package handlers

import (
	"net/http"
	"strings"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/views"
)

// AuthMessage renders a sign-in page with a heading, a sentence and a link: a failed
// or refused sign-in, an unreachable identity provider. Nothing from the provider's
// answer but a short error code ever reaches the text.
func (a *App) AuthMessage(w http.ResponseWriter, r *http.Request, status int, heading, text, linkText, linkHref string) {
	w.Header().Set("Cache-Control", "no-store")
	Render(w, r, status, views.Message(a.Page(r, heading), heading, text, linkText, linkHref))
}

// SignedOut is the page the browser lands on after logout (directly, or back from
// the identity provider's end-session endpoint).
func (a *App) SignedOut(w http.ResponseWriter, r *http.Request) {
	a.AuthMessage(w, r, http.StatusOK, "You are signed out",
		"Your Countersign session has ended. Close the browser if this is a shared computer.", "Sign in again", "/login")
}

// Forbidden answers 403 with a page naming the roles the route needs. An attempt to
// change something (any method but GET and HEAD) is recorded in the audit log.
func (a *App) Forbidden(w http.ResponseWriter, r *http.Request, roles []string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := auth.AuditRefused(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), r.Pattern, r.URL.Path, roles); err != nil {
			reqlog.Logger(r.Context()).Error("audit refused attempt", "err", err)
		}
	}
	a.AuthMessage(w, r, http.StatusForbidden, "Not allowed",
		"This page needs one of: "+strings.Join(roles, ", ")+". Ask an administrator if you should have access.",
		"Go to the start page", "/")
}

// NoRole answers 403 after a sign-in that mapped to no Countersign role: no session
// was created. It names the claim and the values that grant a role, and, when the
// provider left the claim out for its size (Entra ID's groups overage: the token names
// the claim in _claim_names and points at Microsoft Graph instead), says so and how
// to fix it.
func (a *App) NoRole(w http.ResponseWriter, r *http.Request, claim string, mapped []string, overage bool) {
	text := "You signed in, but your account has no Countersign role. Access comes from the \"" + claim +
		"\" claim of your identity provider; these values grant a role: " + strings.Join(mapped, ", ") +
		". Ask your identity administrator to add you to one of them, then sign in again."
	if overage {
		text = "You signed in, but your identity provider left the \"" + claim + "\" claim out of the sign-in token " +
			"because you are in too many groups (Microsoft Entra ID's groups overage: the token names \"" + claim +
			"\" in _claim_names and points to Microsoft Graph instead). Countersign does not call Graph. " +
			"Ask your identity administrator to set the app registration's group claims to \"Groups assigned to the " +
			"application\" (and assign the groups that grant a role: " + strings.Join(mapped, ", ") +
			"), or to use app roles with COUNTERSIGN_OIDC_ROLES_CLAIM=roles; then sign in again."
	}
	a.AuthMessage(w, r, http.StatusForbidden, "No Countersign role", text, "Sign in again", "/login")
}
