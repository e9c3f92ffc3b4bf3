// Package consoletest inserts users, calls and cases for tests of the console.
package consoletest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
)

var seq atomic.Int64

// User inserts an active user and returns the principal for it.
func User(t testing.TB, db *gorm.DB, name, email string, roles ...string) *auth.Principal {
	t.Helper()
	var id int64
	err := db.Raw(`INSERT INTO users (issuer, subject, email, name, roles) VALUES ('test', ?, ?, ?, ?) RETURNING id`,
		fmt.Sprintf("sub-%d", seq.Add(1)), email, name, rolesArray(roles)).Scan(&id).Error
	if err != nil {
		t.Fatalf("consoletest: insert user: %v", err)
	}
	return &auth.Principal{UserID: id, Email: email, Name: name, Roles: roles}
}

func rolesArray(roles []string) string {
	b, _ := json.Marshal(roles)
	return "{" + string(b[1:len(b)-1]) + "}"
}

// Turn is one transcript turn.
type Turn struct {
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
	At      string `json:"at,omitempty"`
}

// Case describes a call and its case; zero fields get defaults.
type Case struct {
	Kind           string
	Status         string
	Urgency        int
	VIP            bool
	Confidence     float64
	AmountMinor    *int64
	Currency       string
	CustomerLabel  string
	DestinationRef string
	Deadline       *time.Time
	CreatedAt      time.Time
	AssigneeID     *int64
	Summary        string
	Transcript     []Turn
	Fields         map[string]any
	CustomerNumber string
	CustomerEmail  string
	CallStatus     string
	RecordingURL   string
	Suppressed     map[string]int
	CallID         int64 // reuse an existing call
}

// Insert creates the call (unless c.CallID is set) and the case, returning the case id.
func Insert(t testing.TB, db *gorm.DB, c Case) int64 {
	t.Helper()
	if c.Kind == "" {
		c.Kind = "refund"
	}
	if c.Status == "" {
		c.Status = "new"
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	if c.CallID == 0 {
		c.CallID = InsertCall(t, db, c)
	}
	var id int64
	err := db.Raw(`INSERT INTO cases (call_id, kind, status, urgency, vip, confidence, amount_minor, currency,
		customer_label, destination_ref, follow_up_deadline, created_at, assignee_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.CallID, c.Kind, c.Status, c.Urgency, c.VIP, c.Confidence, c.AmountMinor, c.Currency,
		c.CustomerLabel, c.DestinationRef, c.Deadline, c.CreatedAt, c.AssigneeID).Scan(&id).Error
	if err != nil {
		t.Fatalf("consoletest: insert case: %v", err)
	}
	// A running console's indexer makes the case searchable within a second; tests
	// do it at once.
	if _, err := console.IndexPending(context.Background(), db, 1000); err != nil {
		t.Fatalf("consoletest: index case: %v", err)
	}
	return id
}

// InsertCall creates the call part of c and returns its id.
func InsertCall(t testing.TB, db *gorm.DB, c Case) int64 {
	t.Helper()
	if c.CallStatus == "" {
		c.CallStatus = "completed"
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	turns, _ := json.Marshal(c.Transcript)
	if c.Transcript == nil {
		turns = []byte("[]")
	}
	fields, _ := json.Marshal(c.Fields)
	if c.Fields == nil {
		fields = []byte("{}")
	}
	supp, _ := json.Marshal(c.Suppressed)
	if c.Suppressed == nil {
		supp = []byte("{}")
	}
	text := ""
	for _, tr := range c.Transcript {
		text += tr.Speaker + ": " + tr.Text + "\n"
	}
	var id int64
	err := db.Raw(`INSERT INTO calls (dialnexa_id, status, customer_number, customer_email, summary, transcript,
		transcript_text, fields, recording_url, recording_expires_at, suppressed, amount_minor, currency, received_at)
		VALUES (?, ?, ?, ?, ?, CAST(? AS jsonb), ?, CAST(? AS jsonb), ?, ?, CAST(? AS jsonb), ?, ?, ?) RETURNING id`,
		fmt.Sprintf("call_test_%d", seq.Add(1)), c.CallStatus, c.CustomerNumber, c.CustomerEmail, c.Summary,
		string(turns), text, string(fields), c.RecordingURL, time.Now().Add(24*time.Hour).UTC(), string(supp),
		c.AmountMinor, c.Currency, c.CreatedAt).Scan(&id).Error
	if err != nil {
		t.Fatalf("consoletest: insert call: %v", err)
	}
	return id
}

// Minor returns a pointer to n, for Case.AmountMinor.
func Minor(n int64) *int64 { return &n }
