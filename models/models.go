// Package models holds the gorm structs of Countersign's tables, with explicit column
// names, and the enum types whose values every caller must respect. It imports
// nothing of ours.
package models

import (
	"encoding/json"
	"time"
)

// CaseStatus is a case's place in its lifecycle (see internal/approval for the
// transitions).
type CaseStatus string

// Case statuses.
const (
	StatusNew              CaseStatus = "new"
	StatusTriaged          CaseStatus = "triaged"
	StatusAwaitingApproval CaseStatus = "awaiting_approval"
	StatusApproved         CaseStatus = "approved"
	StatusRejected         CaseStatus = "rejected"
	StatusNeedsInfo        CaseStatus = "needs_info"
	StatusExecuting        CaseStatus = "executing"
	StatusDone             CaseStatus = "done"
	StatusNeedsAttention   CaseStatus = "needs_attention"
)

// Statuses in lifecycle order.
var Statuses = []CaseStatus{StatusNew, StatusTriaged, StatusAwaitingApproval, StatusApproved,
	StatusRejected, StatusNeedsInfo, StatusExecuting, StatusDone, StatusNeedsAttention}

// Valid reports whether s is a known status.
func (s CaseStatus) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Open reports whether a case in status s still needs someone.
func (s CaseStatus) Open() bool { return s != StatusDone && s != StatusRejected }

// ActionStatus is a planned connector action's place in its lifecycle (see
// internal/approval for the allowed moves).
type ActionStatus string

// Action statuses.
const (
	ActionPlanned        ActionStatus = "planned"
	ActionQueued         ActionStatus = "queued"
	ActionRunning        ActionStatus = "running"
	ActionDone           ActionStatus = "done"
	ActionFailed         ActionStatus = "failed"
	ActionNeedsAttention ActionStatus = "needs_attention"
	ActionCancelled      ActionStatus = "cancelled"
)

// ActionStatuses in lifecycle order.
var ActionStatuses = []ActionStatus{ActionPlanned, ActionQueued, ActionRunning, ActionDone,
	ActionFailed, ActionNeedsAttention, ActionCancelled}

// Valid reports whether s is a known action status.
func (s ActionStatus) Valid() bool {
	for _, v := range ActionStatuses {
		if v == s {
			return true
		}
	}
	return false
}

// DeliveryOutcome says what became of a webhook delivery.
type DeliveryOutcome string

// Delivery outcomes.
const (
	DeliveryStored       DeliveryOutcome = "stored"
	DeliveryIgnored      DeliveryOutcome = "ignored"
	DeliveryRejected     DeliveryOutcome = "rejected"
	DeliveryVerification DeliveryOutcome = "verification"
)

// DeliveryOutcomes are every delivery outcome.
var DeliveryOutcomes = []DeliveryOutcome{DeliveryStored, DeliveryIgnored, DeliveryRejected, DeliveryVerification}

// Valid reports whether o is a known delivery outcome.
func (o DeliveryOutcome) Valid() bool {
	for _, v := range DeliveryOutcomes {
		if v == o {
			return true
		}
	}
	return false
}

// Delivery is one validly signed webhook delivery, stored redacted.
type Delivery struct {
	ID         int64           `gorm:"column:id;primaryKey"`
	Source     string          `gorm:"column:source"`
	ReceivedAt time.Time       `gorm:"column:received_at"`
	RawSHA256  []byte          `gorm:"column:raw_sha256"`
	EventType  string          `gorm:"column:event_type"`
	CallRef    string          `gorm:"column:call_ref"`
	DedupKey   *string         `gorm:"column:dedup_key"`
	Outcome    DeliveryOutcome `gorm:"column:outcome"`
	Error      string          `gorm:"column:error"`
	Body       json.RawMessage `gorm:"column:body;type:jsonb"`
	BodyText   string          `gorm:"column:body_text"`
	Suppressed json.RawMessage `gorm:"column:suppressed;type:jsonb"`
}

// TableName is the delivery table.
func (Delivery) TableName() string { return "webhook_deliveries" }

// Call is a DialNexa call, normalised and redacted.
type Call struct {
	ID                 int64           `gorm:"column:id;primaryKey"`
	DialNexaID         string          `gorm:"column:dialnexa_id"`
	Direction          string          `gorm:"column:direction"`
	CallType           string          `gorm:"column:call_type"`
	Status             string          `gorm:"column:status"`
	Category           string          `gorm:"column:category"`
	FromNumber         string          `gorm:"column:from_number"`
	ToNumber           string          `gorm:"column:to_number"`
	CustomerNumber     string          `gorm:"column:customer_number"`
	AgentID            string          `gorm:"column:agent_id"`
	InitiatedAt        *time.Time      `gorm:"column:initiated_at"`
	EndedAt            *time.Time      `gorm:"column:ended_at"`
	DurationSeconds    *int            `gorm:"column:duration_seconds"`
	HangupReason       string          `gorm:"column:hangup_reason"`
	Transfer           json.RawMessage `gorm:"column:transfer;type:jsonb"`
	Summary            string          `gorm:"column:summary"`
	Transcript         json.RawMessage `gorm:"column:transcript;type:jsonb"`
	TranscriptText     string          `gorm:"column:transcript_text"`
	RecordingURL       string          `gorm:"column:recording_url"`
	RecordingExpiresAt *time.Time      `gorm:"column:recording_expires_at"`
	Fields             json.RawMessage `gorm:"column:fields;type:jsonb"`
	AmountMinor        *int64          `gorm:"column:amount_minor"`
	Currency           string          `gorm:"column:currency"`
	CustomerName       string          `gorm:"column:customer_name"`
	CustomerEmail      string          `gorm:"column:customer_email"`
	CustomerRef        string          `gorm:"column:customer_ref"`
	VIP                bool            `gorm:"column:vip"`
	Suppressed         json.RawMessage `gorm:"column:suppressed;type:jsonb"`
	Restricted         bool            `gorm:"column:restricted"`
	ReceivedAt         time.Time       `gorm:"column:received_at"`
	UpdatedAt          time.Time       `gorm:"column:updated_at"`
}

// TableName is the call table.
func (Call) TableName() string { return "calls" }

// Case is one unit of work in a queue.
type Case struct {
	ID               int64           `gorm:"column:id;primaryKey"`
	CallID           int64           `gorm:"column:call_id"`
	Kind             string          `gorm:"column:kind"`
	Status           CaseStatus      `gorm:"column:status"`
	Urgency          int16           `gorm:"column:urgency"`
	VIP              bool            `gorm:"column:vip"`
	Confidence       float32         `gorm:"column:confidence"`
	Reasons          json.RawMessage `gorm:"column:reasons;type:jsonb"`
	SuspectedKind    string          `gorm:"column:suspected_kind"`
	AmountMinor      *int64          `gorm:"column:amount_minor"`
	Currency         string          `gorm:"column:currency"`
	DestinationType  string          `gorm:"column:destination_type"`
	DestinationRef   string          `gorm:"column:destination_ref"`
	CustomerLabel    string          `gorm:"column:customer_label"`
	Owner            string          `gorm:"column:owner"`
	AssigneeID       *int64          `gorm:"column:assignee_id"`
	NextStep         string          `gorm:"column:next_step"`
	FollowUpDeadline *time.Time      `gorm:"column:follow_up_deadline"`
	RecordURL        string          `gorm:"column:record_url"`
	Tags             TextArray       `gorm:"column:tags;type:text[]"`
	Reviewed         bool            `gorm:"column:reviewed"`
	CreatedAt        time.Time       `gorm:"column:created_at"`
	UpdatedAt        time.Time       `gorm:"column:updated_at"`
	// Set by a plan (00009_decisions.sql): the policy version it was made under,
	// who proposed it and when, the verified recipient, and the approval deadline.
	PolicyVersion    *int64     `gorm:"column:policy_version"`
	RequestedBy      *int64     `gorm:"column:requested_by"`
	RequestedAt      *time.Time `gorm:"column:requested_at"`
	RecipientEmail   string     `gorm:"column:recipient_email"`
	ApprovalDeadline *time.Time `gorm:"column:approval_deadline"`
	// Suppressed counts what redaction suppressed, by kind (private documents
	// mentioned included), and Restricted marks restricted handling when a private
	// document was (00017_vault.sql).
	Suppressed json.RawMessage `gorm:"column:suppressed;type:jsonb"`
	Restricted bool            `gorm:"column:restricted"`
	// Capture is the brief's captured fields with their transcript passages
	// (00022_billing_workflows.sql).
	Capture json.RawMessage `gorm:"column:capture;type:jsonb"`
	// CallChangedAt is when DialNexa last sent a change to what this decided case
	// rests on (kept in call_versions, not applied); nil when it never did
	// (00018_call_versions.sql).
	CallChangedAt *time.Time `gorm:"column:call_changed_at"`
}

// TableName is the case table.
func (Case) TableName() string { return "cases" }

// User is a console user, keyed by (issuer, subject).
type User struct {
	ID          int64      `gorm:"column:id;primaryKey"`
	Issuer      string     `gorm:"column:issuer"`
	Subject     string     `gorm:"column:subject"`
	Email       string     `gorm:"column:email"`
	Name        string     `gorm:"column:name"`
	Roles       TextArray  `gorm:"column:roles;type:text[]"`
	Disabled    bool       `gorm:"column:disabled"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	LastLoginAt *time.Time `gorm:"column:last_login_at"`
}

// TableName is the user table.
func (User) TableName() string { return "users" }
