package handlers

import (
	"net/http"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/views"
)

// NavSource fills the sidebar (queues with counts, saved views) for a principal. The
// console sets it; without it pages show no sidebar.
type NavSource func(r *http.Request, p *auth.Principal) (nav, saved []views.NavItem)

// Page builds the frame every console page shares for the signed-in principal.
func (a *App) Page(r *http.Request, title string) views.Page {
	p := auth.FromContext(r.Context())
	pg := views.Page{Title: title}
	if a.Sandbox != nil {
		pg.Sandboxed = a.Sandbox.Names()
	}
	if p == nil {
		return pg
	}
	pg.SignedIn = true
	pg.UserName = p.Name
	if pg.UserName == "" {
		pg.UserName = p.Email
	}
	pg.UserRoles = p.Roles
	if a.Nav != nil {
		pg.Nav, pg.SavedNav = a.Nav(r, p)
	}
	return pg
}

// connectorMode is how a connector runs ("real", "sandbox", "off"); "" when the
// job service is not wired.
func (a *App) connectorMode(name string) string {
	if a.Jobs == nil {
		return ""
	}
	return string(a.Jobs.Connectors().Modes[name])
}
