// Package auth holds who is signed in (the Principal), the server-side session records
// behind the console's cookies, and the user directory keyed by (issuer, subject).
package auth

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Roles of the console. Every route names the ones it allows (default deny).
const (
	SupportLead     = "support_lead"
	FinanceApprover = "finance_approver"
	Admin           = "admin"
	Auditor         = "auditor"
)

// AllRoles in display order: everyone with console access (the "staff" routes).
var AllRoles = []string{SupportLead, FinanceApprover, Admin, Auditor}

// Role sets, named once and used by the route table, the domain checks and SQL
// (see [SQLList]). Change who may do something here.
var (
	// Triagers change cases without moving money: triage, edit, assign, request
	// approval. Assignees are drawn from them.
	Triagers = []string{SupportLead, FinanceApprover}
	// Revealers may reveal restricted values by default (approval.Service.RevealRoles
	// may narrow it).
	Revealers = []string{Admin, FinanceApprover}
	// Retriers may re-queue an action that needs a person.
	Retriers = []string{FinanceApprover, Admin}
	// AuditReaders read and export the audit trail.
	AuditReaders = []string{Auditor, Admin}
)

// SQLList is roles as one comma-separated argument for
// "roles && string_to_array(?, ',')" in SQL.
func SQLList(roles []string) string { return strings.Join(roles, ",") }

// Principal is the signed-in user of one request, loaded from the server-side session.
type Principal struct {
	UserID    int64
	Email     string
	Name      string
	Roles     []string
	SessionID string    // hash of the cookie token; never the token itself
	AuthTime  time.Time // when the identity provider last authenticated the user
}

// Has reports whether p holds role.
func (p *Principal) Has(role string) bool { return p != nil && slices.Contains(p.Roles, role) }

// HasAny reports whether p holds one of roles.
func (p *Principal) HasAny(roles ...string) bool {
	for _, r := range roles {
		if p.Has(r) {
			return true
		}
	}
	return false
}

// Label is how the principal appears in audit entries: "user:42 fiona@example.com".
func (p *Principal) Label() string {
	if p == nil {
		return "anonymous"
	}
	return "user:" + strconv.FormatInt(p.UserID, 10) + " " + p.Email
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil for anonymous requests.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
