package handlers

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/countersign/countersign/views"
)

// auditVerbs says what an audit action did, as a phrase after the actor's name.
var auditVerbs = map[string]string{
	"case.created": "created the case", "case.assigned": "changed the assignee", "case.reclassified": "moved the case",
	"case.tagged": "added a tag", "case.untagged": "removed a tag", "case.reviewed": "marked the case reviewed",
	"case.note_added": "added a note", "note": "added a note", "note.added": "added a note",
	"case.triaged": "marked the case triaged", "case.claim_checked": "checked the claim against the billing system",
	"case.plan_edited": "changed the plan", "case.replanned": "edited the plan after a failure and asked for approval again",
	"approval.voided": "voided the approvals of the earlier plan", "action.cancelled": "cancelled an action",
	"action.resolved_outside": "marked an action resolved outside Countersign", "case.approved": "gave the final approval", "case.executing": "started execution",
	"case.executed": "finished execution", "approval.requested": "requested approval", "approval.info_added": "added the missing information",
	"approval.approved": "approved", "approval.rejected": "rejected the case", "approval.needs_info": "sent the case back for information",
	"approval.refused": "was refused a decision", "approval.auto_approved": "approved automatically",
	"action.executed": "ran a connector action", "action.retried": "retried a failed action",
	"recipient.verified": "verified a recipient", "restricted.revealed": "revealed restricted values", "restricted.reveal_refused": "was refused a reveal of restricted values",
	"policy.changed": "changed the approval policy", "audit.exported": "exported the audit log",
	"audit.bundle_exported": "downloaded the evidence bundle", "audit.retention": "dropped old months by retention",
	"audit.verified": "verified the audit chain", "access.refused": "was refused access",
	"user.disabled": "disabled a user", "user.enabled": "enabled a user", "user.sessions_ended": "ended a user's sessions",
	"user.roles_changed": "had their roles changed", "webhook.stored": "stored a webhook delivery",
	"stripe.event": "received a Stripe event", "login.succeeded": "signed in", "login.failed": "failed to sign in",
	"logout": "signed out", "auth.login": "signed in", "auth.logout": "signed out",
}

// auditVerb is the phrase for action, or the action in words when it has none.
func auditVerb(action string) string {
	if v, ok := auditVerbs[action]; ok {
		return v
	}
	return strings.ToLower(views.Humanize(strings.ReplaceAll(action, ".", " ")))
}

// auditKeys are summary fields worth a sentence, in the order they are told.
var auditKeys = []string{"from", "to", "reason", "attempt", "note", "comment", "missing", "approvals", "required_approvals",
	"method", "email", "version", "previous_version", "format", "status", "error", "path", "needs"}

// auditDetail turns a summary into short readable clauses ("from triaged to
// awaiting approval; approvals 1 of 2; comment “checked”"). Nested values are
// counted, not dumped; fingerprints and request ids are left to the raw view.
func auditDetail(s map[string]any) string {
	var parts []string
	seen := map[string]bool{}
	if f, t := scalar(s["from"]), scalar(s["to"]); f != "" || t != "" {
		parts = append(parts, "from "+orNobody(words(f))+" to "+orNobody(words(t)))
		seen["from"], seen["to"] = true, true
	}
	if n, need := scalar(s["approvals"]), scalar(s["required_approvals"]); n != "" && need != "" {
		g, _ := strconv.Atoi(n)
		r, _ := strconv.Atoi(need)
		parts = append(parts, progress(g, r))
		seen["approvals"], seen["required_approvals"] = true, true
	}
	keys := append([]string(nil), auditKeys...)
	var rest []string
	for k := range s {
		if !slices.Contains(auditKeys, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range append(keys, rest...) {
		v, ok := s[k]
		if !ok || seen[k] || k == "fingerprint" || strings.HasSuffix(k, "_hash") {
			continue
		}
		if t := clause(k, v); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "; ")
}

func clause(k string, v any) string {
	name := strings.ReplaceAll(k, "_", " ")
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return ""
		}
		return fmt.Sprintf("%s: %d", name, len(x))
	case map[string]any:
		if len(x) == 0 {
			return ""
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, strings.ReplaceAll(k, "_", " "))
		}
		sort.Strings(keys)
		return name + ": " + strings.Join(keys, ", ")
	}
	s := scalar(v)
	if s == "" {
		return ""
	}
	switch k {
	case "note", "comment", "missing", "path":
		return name + " “" + s + "”"
	}
	return name + " " + words(s)
}

func scalar(v any) string {
	switch v.(type) {
	case nil, []any, map[string]any:
		return ""
	}
	s := fmt.Sprint(v)
	if len(s) > 160 {
		s = s[:157] + "…"
	}
	return s
}

// words turns a code ("awaiting_approval") into words.
func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}
