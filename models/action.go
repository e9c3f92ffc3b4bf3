package models

import (
	"encoding/json"
	"time"
)

// Action is one planned connector call of a case (00008_actions.sql). Its status
// moves only through internal/approval; internal/jobs executes it.
type Action struct {
	ID             int64           `gorm:"column:id;primaryKey"`
	CaseID         int64           `gorm:"column:case_id"`
	Position       int             `gorm:"column:position"`
	Connector      string          `gorm:"column:connector"`
	Operation      string          `gorm:"column:operation"`
	Params         json.RawMessage `gorm:"column:params;type:jsonb"`
	Description    string          `gorm:"column:description"`
	IdempotencyKey string          `gorm:"column:idempotency_key"`
	Status         ActionStatus    `gorm:"column:status"`
	Attempts       int             `gorm:"column:attempts"`
	LastError      string          `gorm:"column:last_error"`
	ReceiptID      string          `gorm:"column:receipt_id"`
	Receipt        json.RawMessage `gorm:"column:receipt;type:jsonb"`
	Sandbox        bool            `gorm:"column:sandbox"`
	CreatedAt      time.Time       `gorm:"column:created_at"`
	UpdatedAt      time.Time       `gorm:"column:updated_at"`
	ExecutedAt     *time.Time      `gorm:"column:executed_at"`
}

// TableName is the action table.
func (Action) TableName() string { return "actions" }

// ActionEffect is what an action's attempts left behind that a retry must see
// (00010_jobs.sql, 00020): the Drive file it created, when a send whose outcome is
// unknown started, the receipt of an accepted send, and when the attempts ran. internal/jobs owns it.
type ActionEffect struct {
	ActionID       int64      `gorm:"column:action_id;primaryKey"`
	DriveFileID    string     `gorm:"column:drive_file_id"`
	BlindStartedAt *time.Time `gorm:"column:blind_started_at"`
	FirstAttemptAt *time.Time `gorm:"column:first_attempt_at"`
	LastAttemptAt  *time.Time `gorm:"column:last_attempt_at"`
	// SentReceipt is a blind send's receipt, kept once the provider accepted it
	// (00020_action_sent_record.sql); NULL until then.
	SentReceipt []byte `gorm:"column:sent_receipt;type:jsonb"`
}

// TableName is the action effect table.
func (ActionEffect) TableName() string { return "action_effects" }

// BillingFact is what a billing system said about a case's claim at one lookup
// (00008_actions.sql): internal/enrich writes it, approval and the console read it.
type BillingFact struct {
	ID             int64           `gorm:"column:id;primaryKey"`
	CaseID         int64           `gorm:"column:case_id"`
	Source         string          `gorm:"column:source"`
	Object         string          `gorm:"column:object"`
	ExternalID     string          `gorm:"column:external_id"`
	AmountMinor    *int64          `gorm:"column:amount_minor"`
	Currency       string          `gorm:"column:currency"`
	Status         string          `gorm:"column:status"`
	Refunded       bool            `gorm:"column:refunded"`
	AmountRefunded int64           `gorm:"column:amount_refunded"`
	Disputed       bool            `gorm:"column:disputed"`
	DueDate        *time.Time      `gorm:"column:due_date"`
	CustomerEmail  string          `gorm:"column:customer_email"`
	Detail         json.RawMessage `gorm:"column:detail;type:jsonb"`
	LookedUpAt     time.Time       `gorm:"column:looked_up_at"`
}

// TableName is the billing fact table.
func (BillingFact) TableName() string { return "billing_facts" }
