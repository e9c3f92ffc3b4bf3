package jobs

import (
	"github.com/riverqueue/river"
)

// ActionArgs runs one approved action. Unique by (action id, run) among live jobs: a
// second insert for an action that already has a waiting or running job is a no-op.
// Run is 0 for the approval's job and the action's attempt count for a person's
// retry, so a retry is never swallowed by the finishing job it replaces.
type ActionArgs struct {
	ActionID    int64  `json:"action_id" river:"unique"`
	Run         int    `json:"run,omitempty" river:"unique"`
	CaseID      int64  `json:"case_id"`
	Fingerprint string `json:"fingerprint"` // the plan fingerprint the approval was bound to
}

// Kind is the River job kind.
func (ActionArgs) Kind() string { return "connector_action" }

// AlertArgs posts one finance alert (connector_alerts row) to Slack.
type AlertArgs struct {
	AlertID int64 `json:"alert_id" river:"unique"`
}

// Kind is the River job kind.
func (AlertArgs) Kind() string { return "connector_alert" }

// InsertOpts puts alerts on their own queue.
func (AlertArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAlerts, MaxAttempts: 15, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// TicketUpdateArgs tells a case's Zendesk ticket about event (approval.Ticket*).
// Unique by case and event in every state but cancelled and discarded: a second
// outbox row for the same move, or a redelivery, is a no-op once one job exists.
type TicketUpdateArgs struct {
	CaseID int64  `json:"case_id" river:"unique"`
	Event  string `json:"event" river:"unique"`
}

// Kind is the River job kind.
func (TicketUpdateArgs) Kind() string { return "zendesk_ticket_update" }

// InsertOpts: the same attempt cap as a Zendesk action.
func (TicketUpdateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueActions, MaxAttempts: MaxAttempts(Zendesk), UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnrichArgs checks one case's claim against the billing system.
type EnrichArgs struct {
	CaseID int64 `json:"case_id" river:"unique"`
}

// Kind is the River job kind.
func (EnrichArgs) Kind() string { return "enrich_case" }

// InsertOpts: enrichment is read-only, so retries are cheap.
func (EnrichArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEnrich, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// BackfillArgs fetches a call that arrived without transcript or analysis.
type BackfillArgs struct {
	CallID int64 `json:"call_id" river:"unique"`
}

// Kind is the River job kind.
func (BackfillArgs) Kind() string { return "backfill_call" }

// InsertOpts for backfills.
func (BackfillArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEnrich, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ReconcileArgs re-reads the refunds of recent done Stripe actions (every 15 min).
type ReconcileArgs struct{}

// Kind is the River job kind.
func (ReconcileArgs) Kind() string { return "stripe_reconcile" }

// InsertOpts for the reconciliation.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 3}
}

// PruneArgs deletes connector call history older than a week.
type PruneArgs struct{}

// Kind is the River job kind.
func (PruneArgs) Kind() string { return "prune_connector_calls" }

// InsertOpts for pruning.
func (PruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 3}
}

// MaxAttempts is the attempt cap per connector, sized to the other system's
// idempotency window under River's default backoff (attempt^4 s): 12 attempts end
// about 11 h after the first, well inside Stripe's 24 h key lifetime; 15 attempts
// (about 35 h) for the others, which find their own earlier effect instead.
func MaxAttempts(connector string) int {
	if connector == Stripe {
		return 12
	}
	return 15
}

func actionOpts(connector string) *river.InsertOpts {
	return &river.InsertOpts{Queue: QueueActions, MaxAttempts: MaxAttempts(connector),
		UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
