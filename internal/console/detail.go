package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/models"
)

// Detail is everything the case page shows. Other areas extend it (the decisions
// engineer adds approvals and planned actions) by adding fields filled by their own
// loaders after LoadDetail.
type Detail struct {
	Case      CaseInfo
	Call      CallInfo
	Turns     []Turn
	Fields    []Field
	Recording *Recording // nil when the viewer may not hear recordings or there is none
	// RecordingRestricted says a recording exists that this viewer may not hear.
	RecordingRestricted bool
	// Withheld says the case is under restricted handling (the call named a
	// private document) and the viewer is not among the roles the reveal
	// policy allows (auth.Revealers): the summary, transcript, extracted fields
	// and captured fields were not loaded. The case itself stays visible.
	Withheld  bool
	Billing   BillingFacts
	Notes     []Note
	Timeline  []Event
	Customer  []HistoryCall
	Assignees []User
	// CallRemoved says the call record was removed by retention (the case remains);
	// Call is then empty but for Summary, which carries CallRemovedNote.
	CallRemoved bool
}

// CallRemovedNote is what the case page shows in place of a call dropped by retention.
const CallRemovedNote = "Call record removed by retention: the call's month was dropped after its cases were closed. The case and its audit trail remain."

// CaseInfo is the case row (models.Case) as the case page shows it: with the
// assignee's name, the decoded reasons, and the redaction counts of its call.
type CaseInfo struct {
	models.Case
	AssigneeName   string `gorm:"column:assignee_name"`
	SuppressedJSON string `gorm:"column:call_suppressed"`
	// ReasonList is Case.Reasons decoded.
	ReasonList []string `gorm:"-"`
	// UrgencyWhy are the reasons that explain the urgency (triage's
	// "urgency <level>: ..." lines), without their prefix.
	UrgencyWhy []string `gorm:"-"`
	// Captured is the brief's capture list (triage.CaptureFields order) with the
	// transcript line each value came from.
	Captured []CapturedField `gorm:"-"`
	// CallRestricted says the call named a private document (passport, tax return,
	// bank statement); loadCase folds it into Case.Restricted (restricted handling).
	CallRestricted bool `gorm:"column:call_restricted"`
	// CallChangedFields names the fields the changes DialNexa sent after the case was
	// decided touched (amount, invoice...); see Case.CallChangedAt.
	CallChangedFields []string `gorm:"-"`
	// SuppressedCounts counts the values redaction removed from the call, by kind.
	SuppressedCounts map[string]int `gorm:"-"`
}

// CallInfo is the call the case came from (already redacted at ingestion).
type CallInfo struct {
	DialNexaID     string     `gorm:"column:dialnexa_id"`
	Direction      string     `gorm:"column:direction"`
	Status         string     `gorm:"column:call_status"`
	CustomerNumber string     `gorm:"column:customer_number"`
	CustomerName   string     `gorm:"column:customer_name"`
	CustomerEmail  string     `gorm:"column:customer_email"`
	CustomerRef    string     `gorm:"column:customer_ref"`
	Summary        string     `gorm:"column:summary"`
	InitiatedAt    *time.Time `gorm:"column:initiated_at"`
	Duration       *int       `gorm:"column:duration_seconds"`
	ReceivedAt     time.Time  `gorm:"column:received_at"`
	TranscriptJSON string     `gorm:"column:transcript"`
	FieldsJSON     string     `gorm:"column:fields"`
	RecordingURL   string     `gorm:"column:recording_url"`
	RecordingExp   *time.Time `gorm:"column:recording_expires_at"`
}

// Turn is one speaker turn of the redacted transcript.
type Turn struct {
	Speaker string
	Text    string
	At      string // offset or time as sent, may be empty
}

// Field is one extracted field and the transcript turn it was found in (-1: none).
type Field struct {
	Name  string
	Value string
	Turn  int
}

// Recording is the call recording link, for viewers allowed to hear it.
type Recording struct {
	URL       string
	ExpiresAt *time.Time
}

// Note is one internal note.
type Note struct {
	ID        int64     `gorm:"column:id"`
	Author    string    `gorm:"column:author"`
	Body      string    `gorm:"column:body"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// Event is one timeline entry: an audit entry or a note.
type Event struct {
	At      time.Time
	Actor   string
	Action  string // "case.assigned", "note"
	Summary map[string]any
	NoteID  int64
}

// HistoryCall is another call of the same customer, with its cases.
type HistoryCall struct {
	ID         int64         `gorm:"column:id"`
	DialNexaID string        `gorm:"column:dialnexa_id"`
	Status     string        `gorm:"column:status"`
	Summary    string        `gorm:"column:summary"`
	ReceivedAt time.Time     `gorm:"column:received_at"`
	Cases      []HistoryCase `gorm:"-"`
}

// HistoryCase is a case of a history call.
type HistoryCase struct {
	ID     int64  `gorm:"column:id"`
	CallID int64  `gorm:"column:call_id"`
	Kind   string `gorm:"column:kind"`
	Status string `gorm:"column:status"`
}

// User is someone a case can be assigned to.
type User struct {
	ID    int64  `gorm:"column:id"`
	Label string `gorm:"column:label"`
}

// CanHearRecording reports whether p may open call recordings.
func CanHearRecording(p *auth.Principal) bool {
	return p.HasAny(auth.FinanceApprover, auth.Admin)
}

// ParseID reads a case id from a URL; anything but a positive integer is not found.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFoundf("No case %q: case ids are numbers.", clip(s))
	}
	return id, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// LoadDetail loads case id for viewer p. The recording link is only filled for
// viewers allowed to hear it.
func LoadDetail(ctx context.Context, db *gorm.DB, p *auth.Principal, id int64) (*Detail, error) {
	db = db.WithContext(ctx)
	d := &Detail{}
	if err := loadCase(db, id, d); err != nil {
		return nil, err
	}
	if d.Case.Restricted {
		if err := openRestricted(ctx, db, p, d); err != nil {
			return nil, err
		}
	}
	d.Turns = parseTurns(d.Call.TranscriptJSON)
	d.Fields = parseFields(d.Call.FieldsJSON, d.Turns)
	if d.Call.RecordingURL != "" {
		if CanHearRecording(p) {
			d.Recording = &Recording{URL: d.Call.RecordingURL, ExpiresAt: d.Call.RecordingExp}
		} else {
			d.RecordingRestricted = true
		}
	}
	d.Call.RecordingURL = ""
	loaders := []func(*gorm.DB, *Detail) error{loadNotes, loadTimeline, loadHistory, loadAssignees, loadBilling, loadCallChanges}
	for _, load := range loaders {
		if err := load(db, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// openRestricted audits every opening of a case under restricted handling
// (restricted.case_opened, with whether the body was withheld) and, for a
// viewer outside auth.Revealers, drops the call's body from d.
func openRestricted(ctx context.Context, db *gorm.DB, p *auth.Principal, d *Detail) error {
	d.Withheld = !p.HasAny(auth.Revealers...)
	err := db.Transaction(func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, Entry(ctx, p, "restricted.case_opened", d.Case.ID, map[string]any{"withheld": d.Withheld}))
		return err
	})
	if err != nil {
		return fmt.Errorf("console: audit opening restricted case %d: %w", d.Case.ID, err)
	}
	if d.Withheld {
		d.Call.Summary, d.Call.TranscriptJSON, d.Call.FieldsJSON, d.Case.Captured = "", "[]", "{}", nil
	}
	return nil
}

// loadCallChanges names the fields of the versions DialNexa sent after the case was
// decided (only for a flagged case).
func loadCallChanges(db *gorm.DB, d *Detail) error {
	if d.Case.CallChangedAt == nil {
		return nil
	}
	var names string
	err := db.Raw(`SELECT coalesce(string_agg(DISTINCT key, ',' ORDER BY key), '') FROM call_versions v,
		jsonb_object_keys(v.changed) key WHERE v.call_id = ?`, d.Case.CallID).Row().Scan(&names)
	if err != nil {
		return fmt.Errorf("console: load call versions of case %d: %w", d.Case.ID, err)
	}
	if names != "" {
		d.Case.CallChangedFields = strings.Split(names, ",")
	}
	return nil
}

func loadCase(db *gorm.DB, id int64, d *Detail) error {
	var row struct {
		CaseInfo
		CallInfo
		CallRemoved bool `gorm:"column:call_removed"`
	}
	err := db.Raw(`SELECT c.*, coalesce(nullif(u.name, ''), u.email, '') AS assignee_name,
		coalesce(cl.suppressed::text, '{}') AS call_suppressed, coalesce(cl.restricted, false) AS call_restricted,
		coalesce(cl.dialnexa_id, '') AS dialnexa_id,
		coalesce(cl.direction, '') AS direction, coalesce(cl.status, '') AS call_status,
		coalesce(cl.customer_number, '') AS customer_number, coalesce(cl.customer_name, '') AS customer_name,
		coalesce(cl.customer_email, '') AS customer_email, coalesce(cl.customer_ref, '') AS customer_ref,
		coalesce(cl.summary, '') AS summary, cl.initiated_at, cl.duration_seconds,
		coalesce(cl.received_at, c.created_at) AS received_at, coalesce(cl.transcript::text, '[]') AS transcript,
		coalesce(cl.fields::text, '{}') AS fields, coalesce(cl.recording_url, '') AS recording_url,
		cl.recording_expires_at, cl.id IS NULL AS call_removed
		FROM cases c LEFT JOIN calls cl ON cl.id = c.call_id LEFT JOIN users u ON u.id = c.assignee_id
		WHERE c.id = ?`, id).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("console: load case %d: %w", id, err)
	}
	if row.CaseInfo.ID == 0 {
		return apperr.NotFoundf("Case %d does not exist.", id)
	}
	d.Case, d.Call = row.CaseInfo, row.CallInfo
	d.Case.Restricted = d.Case.Restricted || d.Case.CallRestricted
	if row.CallRemoved {
		// `countersign retention` dropped the call's month; the closed case remains.
		d.CallRemoved = true
		d.Call.Summary = CallRemovedNote
	}
	_ = json.Unmarshal(d.Case.Reasons, &d.Case.ReasonList)
	d.Case.UrgencyWhy = urgencyWhy(d.Case.ReasonList)
	d.Case.Captured = capturedFields(string(d.Case.Capture))
	_ = json.Unmarshal([]byte(d.Case.SuppressedJSON), &d.Case.SuppressedCounts)
	return nil
}

// parseTurns reads calls.transcript: [{speaker, text, at}]. Anything else is skipped.
func parseTurns(raw string) []Turn {
	var in []struct {
		Speaker string          `json:"speaker"`
		Text    string          `json:"text"`
		At      json.RawMessage `json:"at"`
	}
	if json.Unmarshal([]byte(raw), &in) != nil {
		return nil
	}
	out := make([]Turn, 0, len(in))
	for _, t := range in {
		at := strings.Trim(string(t.At), `"`)
		if at == "null" {
			at = ""
		}
		out = append(out, Turn{Speaker: t.Speaker, Text: t.Text, At: at})
	}
	return out
}

// parseFields reads calls.fields and finds, for each value, the first turn that
// contains it (case-insensitive; "89.0" is also looked for as "89").
func parseFields(raw string, turns []Turn) []Field {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]Field, 0, len(names))
	for _, k := range names {
		v := fieldText(m[k])
		if v == "" {
			continue
		}
		out = append(out, Field{Name: k, Value: v, Turn: findTurn(turns, v)})
	}
	return out
}

func fieldText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case json.Number:
		return x.String()
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func findTurn(turns []Turn, value string) int {
	v := strings.ToLower(strings.TrimSpace(value))
	candidates := []string{v}
	if whole, frac, ok := strings.Cut(v, "."); ok && strings.Trim(frac, "0") == "" {
		candidates = append(candidates, whole)
	}
	for _, c := range candidates {
		if len(c) < 2 || c == "yes" || c == "no" {
			continue
		}
		for i, t := range turns {
			if strings.Contains(strings.ToLower(t.Text), c) {
				return i
			}
		}
	}
	return -1
}

func loadNotes(db *gorm.DB, d *Detail) error {
	err := db.Raw(`SELECT n.id, coalesce(nullif(u.name, ''), u.email) AS author, n.body, n.created_at
		FROM notes n JOIN users u ON u.id = n.author_id WHERE n.case_id = ? ORDER BY n.id LIMIT 500`,
		d.Case.ID).Scan(&d.Notes).Error
	if err != nil {
		return fmt.Errorf("console: notes of case %d: %w", d.Case.ID, err)
	}
	return nil
}

func loadAssignees(db *gorm.DB, d *Detail) error {
	return Assignees(db, &d.Assignees)
}

// Assignees lists people a case can be assigned to (active support leads and
// finance approvers), by name.
func Assignees(db *gorm.DB, out *[]User) error {
	err := db.Raw(`SELECT id, coalesce(nullif(name, ''), email) AS label FROM users
		WHERE NOT disabled AND roles && string_to_array(?, ',')
		ORDER BY lower(coalesce(nullif(name, ''), email)), id LIMIT 500`, auth.SQLList(auth.Triagers)).Scan(out).Error
	if err != nil {
		return fmt.Errorf("console: assignees: %w", err)
	}
	return nil
}

// BillingFacts is what the billing system says about the caller's claim, from the
// billing_facts and claim_checks tables the connectors fill (00008_actions.sql).
// LookedUp is false until a lookup stored something: the page says "Not looked up yet".
type BillingFacts struct {
	LookedUp  bool
	Source    string
	CheckedAt *time.Time
	Facts     []Fact
	Problem   string // set when facts exist but could not be read
	// Score explains the claim check's confidence term by term.
	Score []ScoreLine
	// Route says why the claim check sent the case to review.
	Route []string
}

// ScoreLine is one term of a claim check's confidence.
type ScoreLine struct {
	Points float64 `json:"points"`
	Why    string  `json:"why"`
}

// Fact is one line of the billing panel: what the caller said beside what the
// billing system has. Match is nil when the two cannot be compared.
type Fact struct {
	Label   string
	Claimed string
	Billing string
	Match   *bool
}

// loadBilling reads the stored lookups when the tables exist. A read failure shows as
// a problem on the panel, never as a failed page.
func loadBilling(db *gorm.DB, d *Detail) error {
	var exists bool
	if err := db.Raw("SELECT to_regclass('billing_facts') IS NOT NULL AND to_regclass('claim_checks') IS NOT NULL").Scan(&exists).Error; err != nil {
		return fmt.Errorf("console: billing facts table: %w", err)
	}
	if !exists {
		return nil
	}
	var rows []models.BillingFact
	err := db.Where("case_id = ?", d.Case.ID).Order("looked_up_at DESC, id DESC").Limit(20).Find(&rows).Error
	var check struct {
		Mismatches string `gorm:"column:mismatches"`
		Score      string `gorm:"column:score"`
		Route      string `gorm:"column:route"`
	}
	var mismatches []string
	if err == nil {
		res := db.Raw("SELECT mismatches::text, score::text, route::text FROM claim_checks WHERE case_id = ?", d.Case.ID).Scan(&check)
		if err = res.Error; res.RowsAffected > 0 {
			mismatches = []string{check.Mismatches}
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		d.Billing.Problem = "The billing facts could not be read."
		return nil
	}
	d.Billing = billingFacts(d.Case, rows, mismatches)
	_ = json.Unmarshal([]byte(check.Score), &d.Billing.Score)
	_ = json.Unmarshal([]byte(check.Route), &d.Billing.Route)
	if len(d.Billing.Score) > 0 {
		d.Billing.LookedUp = true
	}
	return nil
}

// CapturedField is one captured value of the brief's list.
type CapturedField struct {
	Name, Label, Value, Passage string
	Link                        bool // Value is an http(s) URL
}

func capturedFields(raw string) []CapturedField {
	var m map[string]triage.Captured
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil
	}
	var out []CapturedField
	for _, name := range triage.CaptureFields {
		if c, ok := m[name]; ok {
			out = append(out, CapturedField{Name: name, Label: triage.CaptureLabels[name], Value: c.Value, Passage: c.Passage,
				Link: strings.HasPrefix(c.Value, "https://") || strings.HasPrefix(c.Value, "http://")})
		}
	}
	return out
}

// urgencyWhy picks the reasons that explain a case's urgency.
func urgencyWhy(reasons []string) []string {
	var out []string
	for _, r := range reasons {
		if rest, ok := strings.CutPrefix(r, triage.UrgencyReasonPrefix); ok {
			if _, why, ok := strings.Cut(rest, ": "); ok {
				out = append(out, why)
			}
		}
	}
	return out
}

func billingFacts(c CaseInfo, rows []models.BillingFact, mismatches []string) BillingFacts {
	var b BillingFacts
	for _, r := range rows {
		if !b.LookedUp {
			at := r.LookedUpAt
			b.LookedUp, b.Source, b.CheckedAt = true, r.Source, &at
		}
		f := Fact{Label: strings.TrimSpace(r.Object + " " + r.ExternalID), Billing: billingText(r)}
		if c.AmountMinor != nil && r.AmountMinor != nil {
			f.Claimed = money.Amount{Minor: *c.AmountMinor, Currency: c.Currency}.String()
			m := *c.AmountMinor == *r.AmountMinor && strings.EqualFold(c.Currency, r.Currency)
			f.Match = &m
		}
		b.Facts = append(b.Facts, f)
	}
	for _, raw := range mismatches {
		var ms []struct {
			Field   string `json:"field"`
			Claimed any    `json:"claimed"`
			Found   any    `json:"found"`
		}
		_ = json.Unmarshal([]byte(raw), &ms)
		for _, m := range ms {
			no := false
			b.Facts = append(b.Facts, Fact{Label: m.Field, Claimed: fieldText(m.Claimed), Billing: fieldText(m.Found), Match: &no})
		}
	}
	return b
}

func billingText(r models.BillingFact) string {
	var parts []string
	if r.AmountMinor != nil {
		parts = append(parts, money.Amount{Minor: *r.AmountMinor, Currency: strings.ToUpper(r.Currency)}.String())
	}
	if r.Status != "" {
		parts = append(parts, r.Status)
	}
	if r.Refunded || r.AmountRefunded > 0 {
		parts = append(parts, "refunded "+money.Amount{Minor: r.AmountRefunded, Currency: strings.ToUpper(r.Currency)}.String())
	}
	if r.Disputed {
		parts = append(parts, "disputed")
	}
	if r.DueDate != nil {
		parts = append(parts, "due "+r.DueDate.UTC().Format("2006-01-02"))
	}
	if r.Object == "customer" && r.CustomerEmail != "" {
		parts = append(parts, "billing email "+r.CustomerEmail)
	}
	return strings.Join(parts, " · ")
}
