package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/static"
)

// Access says who may call a route. The zero value allows nobody: a route must name
// its access explicitly (default deny).
type Access struct {
	Public  bool     // no login: health, login flow, static files
	Webhook bool     // no login, no CSRF: the request signature is the only gate
	Roles   []string // signed-in users holding at least one of these roles
	// Refused, when set, answers a signed-in user without the roles instead of the
	// generic 403 page; it must answer 403 itself (reveal audits refusals this way).
	Refused http.Handler
}

// Route is one entry of the route table.
type Route struct {
	Pattern string
	Access  Access
	Handler http.Handler
}

var (
	public  = Access{Public: true}
	webhook = Access{Webhook: true}
	// staff is every console role: reading queues and cases.
	staff = Access{Roles: auth.AllRoles}
	// triage changes cases without moving money.
	triage = Access{Roles: auth.Triagers}
	// finance decides money-moving actions.
	finance = Access{Roles: []string{auth.FinanceApprover}}
	// admins set policy, connectors and users.
	admins = Access{Roles: []string{auth.Admin}}
	// auditing reads the audit trail.
	auditing = Access{Roles: auth.AuditReaders}
)

// routeTable is the whole HTTP surface of the console: read it and you know every
// route and who may call it.
func (s *Server) routeTable() []Route {
	a := s.app
	h := func(f http.HandlerFunc) http.Handler { return f }
	_ = triage
	_ = finance
	_ = admins
	_ = auditing
	_ = staff
	_ = webhook
	routes := []Route{
		// Operations.
		{"GET /healthz", public, h(a.Healthz)},
		{"GET /readyz", public, h(a.Readyz)},
		{"GET /metrics", public, promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})},
		{"GET /static/", public, staticFiles()},

		// section: auth (login, logout, users)
		{"GET /login", public, h(s.auth.handleLogin)},
		{"GET /auth/callback", public, h(s.auth.handleCallback)},
		{"POST /logout", public, h(s.auth.handleLogout)},
		{"GET /signed-out", public, h(a.SignedOut)},
		{"GET /admin/users", admins, h(a.AdminUsers)},
		{"POST /admin/users/{id}/disable", admins, h(a.DisableUser)},
		{"POST /admin/users/{id}/enable", admins, h(a.EnableUser)},
		{"POST /admin/users/{id}/end-sessions", admins, h(a.EndUserSessions)},

		// section: webhooks
		{"POST /webhooks/dialnexa", webhook, h(a.DialNexaWebhook)},

		// section: console (queues, cases, dashboard)
		{"GET /{$}", staff, h(a.Home)},
		{"GET /queues/{queue}", staff, h(a.Queue)},
		{"GET /queues/{queue}/since", staff, h(a.QueueSince)},
		{"GET /queues/{queue}/export.csv", staff, h(a.QueueExport)},
		{"POST /queues/bulk", triage, h(a.QueueBulk)},
		{"POST /views", staff, h(a.SaveView)},
		{"POST /views/{id}/delete", staff, h(a.DeleteView)},
		{"GET /cases/{id}", staff, h(a.Case)},
		{"POST /cases/{id}/assign", triage, h(a.CaseAssign)},
		{"POST /cases/{id}/reclassify", triage, h(a.CaseReclassify)},
		{"POST /cases/{id}/notes", triage, h(a.CaseNote)},
		{"POST /cases/{id}/tags", triage, h(a.CaseTags)},
		{"POST /cases/{id}/triage", triage, h(a.Triage)},
		{"GET /dashboard", staff, h(a.Dashboard)},
		{"GET /approvals", finance, h(a.Awaiting)},

		// section: decisions (approvals, policy, audit)
		{"GET /cases/{id}/decision", staff, h(a.DecisionPage)},
		{"POST /cases/{id}/request-approval", triage, h(a.RequestApproval)},
		{"POST /cases/{id}/plan", triage, h(a.EditPlan)},
		{"GET /cases/{id}/replan", triage, h(a.ReplanPage)}, // edit after a failed action and ask again
		{"POST /cases/{id}/replan", triage, h(a.Replan)},
		{"POST /cases/{id}/approve", finance, h(a.Approve)},              // step-up decided per amount in internal/approval
		{"GET /cases/{id}/approve/resume", finance, h(a.ResumeApproval)}, // where the approve step-up sign-in returns
		{"POST /cases/{id}/reject", finance, h(a.Reject)},
		{"POST /cases/{id}/needs-info", finance, h(a.NeedsInfo)},
		{"POST /cases/{id}/recipients", Access{Roles: []string{auth.SupportLead}}, h(a.VerifyRecipient)},
		// A refused reveal goes to the handler too: approval.Reveal audits it, then answers 403.
		{"POST /cases/{id}/reveal", Access{Roles: auth.Revealers, Refused: h(a.RevealRefused)}, h(a.Reveal)},
		{"GET /cases/{id}/evidence.jsonl", auditing, h(a.EvidenceBundle)},
		{"GET /audit", auditing, h(a.AuditLog)},
		{"GET /audit/export", auditing, h(a.AuditExport)},
		{"POST /audit/verify", auditing, h(a.AuditVerify)},
		{"GET /admin/policy", admins, h(a.Policy)},
		{"POST /admin/policy", admins, h(a.SavePolicy)},

		// section: connectors (actions, jobs, sandbox)
		{"POST /webhooks/stripe", webhook, h(a.StripeWebhook)},
		{"POST /actions/{id}/retry", Access{Roles: auth.Retriers}, h(a.RetryAction)},
		{"POST /actions/{id}/cancel", Access{Roles: auth.Retriers}, h(a.CancelAction)},
		{"POST /actions/{id}/resolve", Access{Roles: auth.Retriers}, h(a.ResolveAction)},
		{"GET /admin/jobs", admins, h(a.AdminJobs)},
		{"GET /admin/connectors", admins, h(a.AdminConnectors)},
		{"GET /admin/sandbox", admins, h(a.AdminSandbox)},
	}
	return routes
}

// staticFiles serves the embedded CSS and JS; file names are stable, so caching is
// short enough that a new release is picked up within the hour.
func staticFiles() http.Handler {
	fsrv := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// guard enforces a route's access rule before its handler runs.
func (s *Server) guard(rt Route) http.Handler {
	switch {
	case rt.Access.Webhook:
		return rt.Handler
	case rt.Access.Public:
		return s.auth.optional(rt.Handler)
	case len(rt.Access.Roles) == 0:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "This route has no access rule and is closed.", http.StatusForbidden)
		})
	}
	return s.auth.require(rt.Access.Roles, rt.Handler, rt.Access.Refused)
}
