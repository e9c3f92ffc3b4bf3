package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/triage"
)

// recordingLifetime is how long DialNexa's pre-signed recording links stay valid.
const recordingLifetime = 7 * 24 * time.Hour

type turnJSON struct {
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
	At      string `json:"at,omitempty"`
}

// redactedCall is a call with every free-text field masked, ready to store.
type redactedCall struct {
	c          *dialnexa.Call
	summary    string
	turns      []turnJSON
	text       string
	fields     json.RawMessage
	analysis   map[string]any
	suppressed redact.Counts
}

func redactCall(c *dialnexa.Call) (redactedCall, error) {
	r := redactedCall{c: c, turns: make([]turnJSON, 0, len(c.Transcript))}
	var counts redact.Counts
	r.summary, counts = redact.String(c.Summary)
	r.suppressed = r.suppressed.Add(counts)
	masked := make([]dialnexa.Turn, 0, len(c.Transcript))
	for _, t := range c.Transcript {
		text, n := redact.String(t.Text)
		r.suppressed = r.suppressed.Add(n)
		r.turns = append(r.turns, turnJSON{Speaker: t.Speaker, Text: text, At: t.At})
		masked = append(masked, dialnexa.Turn{Speaker: t.Speaker, Text: text, At: t.At})
	}
	r.text = dialnexa.TranscriptText(masked)
	r.fields = json.RawMessage("{}")
	if len(c.Analysis) > 0 {
		raw, err := json.Marshal(c.Analysis)
		if err != nil {
			return r, fmt.Errorf("encode analysis: %w", err)
		}
		red, n, err := redact.JSON(raw)
		if err != nil {
			return r, fmt.Errorf("redact analysis: %w", err)
		}
		r.suppressed = r.suppressed.Add(n)
		r.fields = red
		dec := json.NewDecoder(bytes.NewReader(red))
		dec.UseNumber()
		if err := dec.Decode(&r.analysis); err != nil {
			return r, fmt.Errorf("decode redacted analysis: %w", err)
		}
	}
	return r, nil
}

// storedCall is the merged call row as it stands after the upsert.
type storedCall struct {
	ID             int64           `gorm:"column:id"`
	Status         string          `gorm:"column:status"`
	Summary        string          `gorm:"column:summary"`
	TranscriptText string          `gorm:"column:transcript_text"`
	Fields         json.RawMessage `gorm:"column:fields"`
	CustomerNumber string          `gorm:"column:customer_number"`
	CustomerName   string          `gorm:"column:customer_name"`
	CustomerEmail  string          `gorm:"column:customer_email"`
	ReceivedAt     time.Time       `gorm:"column:received_at"`
	PriorCalls     int             `gorm:"column:prior_calls"` // earlier calls from the number in 30 days, capped at 3
}

func (s *Service) storeCall(ctx context.Context, tx *gorm.DB, raw, digest []byte, ev dialnexa.Event) (Result, error) {
	body, text, bodyCounts := redactedBody(raw)
	key := DedupKey(ev)
	var deliveryID int64
	err := tx.Raw(`INSERT INTO webhook_deliveries
		(source, raw_sha256, event_type, call_ref, dedup_key, outcome, body, body_text, suppressed)
		VALUES ('dialnexa', ?, ?, ?, ?, 'stored', ?, ?, ?)
		ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id`,
		digest, truncateUTF8(ev.EventType, 200), ev.Call.ID, key, nullJSON(body), text, countsJSON(bodyCounts)).
		Scan(&deliveryID).Error
	if err != nil {
		return Result{}, fmt.Errorf("store delivery: %w", err)
	}
	if deliveryID == 0 {
		return Result{Outcome: Duplicate}, nil
	}
	rc, err := redactCall(ev.Call)
	if err != nil {
		return Result{}, err
	}
	call, err := s.upsertCall(tx, ev, rc)
	if err != nil {
		return Result{}, err
	}
	res := Result{Outcome: Stored, DeliveryID: deliveryID, CallID: call.ID, Suppressed: rc.suppressed}
	entries := []audit.Entry{entry("webhook.stored", "call", call.ID, map[string]any{
		"dialnexa_call_id": ev.Call.ID, "event_type": ev.EventType, "status": call.Status,
		"suppressed": rc.suppressed.Total(),
	})}
	var caseEntries []audit.Entry
	if res.CaseIDs, caseEntries, err = s.openCases(tx, call); err != nil {
		return Result{}, err
	}
	// One statement for every audit entry of the delivery.
	if err := audit.AppendMany(ctx, tx, append(entries, caseEntries...)...); err != nil {
		return Result{}, err
	}
	return res, nil
}

// upsertCall merges the event into the call row in one statement. Text fields only
// ever gain content; the status only moves forward (call_status_rank); analysis
// fields merge key by key.
func (s *Service) upsertCall(tx *gorm.DB, ev dialnexa.Event, rc redactedCall) (storedCall, error) {
	c := ev.Call
	now := s.now()
	customer := c.From
	if strings.EqualFold(c.Direction, "outbound") {
		customer = c.To
	}
	status := c.Status
	if status == "" {
		status = map[dialnexa.EventKind]string{dialnexa.KindInitiated: "initiated", dialnexa.KindEnded: "ended",
			dialnexa.KindTransfer: "transferred"}[ev.Kind]
	}
	var endedAt, recordingExpires *time.Time
	if ev.Kind == dialnexa.KindEnded {
		endedAt = &now
	}
	if c.RecordingURL != "" {
		t := now.Add(recordingLifetime)
		recordingExpires = &t
	}
	var transfer any
	if c.Transfer != nil {
		b, _ := json.Marshal(map[string]string{"destination": c.Transfer.Destination, "status": c.Transfer.Status, "destination_id": c.Transfer.DestinationID})
		transfer = string(b)
	}
	turns, _ := json.Marshal(rc.turns)
	name, email, vip := analysisString(rc.analysis, "customer_name"), analysisString(rc.analysis, "customer_email"), analysisBool(rc.analysis, "vip")
	var out storedCall
	// call_keys makes the DialNexa id unique across the monthly partitions of calls:
	// the first event of a call claims its key (and so its id and month); a later
	// event finds the key, waiting for a concurrent first one to commit, and merges
	// into the same row.
	err := tx.Raw(`WITH k AS (INSERT INTO call_keys AS k (dialnexa_id, call_id, received_at)
			VALUES (?, nextval('calls_id_seq'), ?)
			ON CONFLICT (dialnexa_id) DO UPDATE SET dialnexa_id = k.dialnexa_id
			RETURNING call_id, received_at),
		up AS (INSERT INTO calls AS c (id, received_at, dialnexa_id, direction, call_type, status, category, from_number,
			to_number, customer_number, agent_id, initiated_at, ended_at, duration_seconds, hangup_reason, transfer,
			summary, transcript, transcript_text, recording_url, recording_expires_at, fields, customer_name,
			customer_email, vip, suppressed, updated_at)
		SELECT k.call_id, k.received_at, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, ?::integer, ?,
			?::jsonb, ?, ?::jsonb, ?, ?, ?::timestamptz, ?::jsonb, ?, ?, ?::boolean, ?::jsonb, ?::timestamptz FROM k
		ON CONFLICT (id, received_at) DO UPDATE SET
			direction        = COALESCE(NULLIF(EXCLUDED.direction, ''), c.direction),
			call_type        = COALESCE(NULLIF(EXCLUDED.call_type, ''), c.call_type),
			status           = CASE WHEN call_status_rank(EXCLUDED.status) >= call_status_rank(c.status) THEN EXCLUDED.status ELSE c.status END,
			category         = COALESCE(NULLIF(EXCLUDED.category, ''), c.category),
			from_number      = COALESCE(NULLIF(EXCLUDED.from_number, ''), c.from_number),
			to_number        = COALESCE(NULLIF(EXCLUDED.to_number, ''), c.to_number),
			customer_number  = COALESCE(NULLIF(EXCLUDED.customer_number, ''), c.customer_number),
			agent_id         = COALESCE(NULLIF(EXCLUDED.agent_id, ''), c.agent_id),
			initiated_at     = COALESCE(c.initiated_at, EXCLUDED.initiated_at),
			ended_at         = COALESCE(c.ended_at, EXCLUDED.ended_at),
			duration_seconds = COALESCE(EXCLUDED.duration_seconds, c.duration_seconds),
			hangup_reason    = COALESCE(NULLIF(EXCLUDED.hangup_reason, ''), c.hangup_reason),
			transfer         = COALESCE(EXCLUDED.transfer, c.transfer),
			summary          = COALESCE(NULLIF(EXCLUDED.summary, ''), c.summary),
			transcript       = CASE WHEN jsonb_array_length(EXCLUDED.transcript) > 0 THEN EXCLUDED.transcript ELSE c.transcript END,
			transcript_text  = COALESCE(NULLIF(EXCLUDED.transcript_text, ''), c.transcript_text),
			recording_url    = COALESCE(NULLIF(EXCLUDED.recording_url, ''), c.recording_url),
			recording_expires_at = CASE WHEN EXCLUDED.recording_url <> '' THEN EXCLUDED.recording_expires_at ELSE c.recording_expires_at END,
			fields           = c.fields || EXCLUDED.fields,
			customer_name    = COALESCE(NULLIF(EXCLUDED.customer_name, ''), c.customer_name),
			customer_email   = COALESCE(NULLIF(EXCLUDED.customer_email, ''), c.customer_email),
			vip              = c.vip OR EXCLUDED.vip,
			suppressed       = c.suppressed || EXCLUDED.suppressed,
			updated_at       = EXCLUDED.updated_at
		RETURNING id, status, summary, transcript_text, fields, customer_number, customer_name, customer_email, received_at)
		SELECT up.*, (SELECT count(*) FROM (SELECT 1 FROM calls o WHERE up.customer_number <> ''
			AND o.customer_number = up.customer_number AND o.id <> up.id
			AND o.received_at > up.received_at - interval '30 days' LIMIT 3) p) AS prior_calls
		FROM up`,
		c.ID, now,
		c.ID, c.Direction, c.Type, status, c.Category, c.From, c.To, customer, c.AgentID, c.InitiatedAt, endedAt,
		c.DurationSeconds, c.HangupReason, transfer, rc.summary, string(turns), rc.text, c.RecordingURL,
		recordingExpires, string(rc.fields), name, email, vip, string(countsJSON(rc.suppressed)), now).
		Scan(&out).Error
	if err != nil {
		return out, fmt.Errorf("upsert call %s: %w", c.ID, err)
	}
	return out, nil
}

func analysisString(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	}
	return ""
}

func analysisBool(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(strings.TrimSpace(v))
		return b
	}
	return false
}

// openCases classifies a completed call and inserts the cases it does not have yet,
// returning their ids and audit entries.
func (s *Service) openCases(tx *gorm.DB, call storedCall) ([]int64, []audit.Entry, error) {
	var analysis map[string]any
	if len(call.Fields) > 0 {
		dec := json.NewDecoder(bytes.NewReader(call.Fields))
		dec.UseNumber()
		_ = dec.Decode(&analysis)
	}
	res := triage.Classify(triage.Input{CallID: strconv.FormatInt(call.ID, 10), Status: call.Status,
		Summary: call.Summary, Transcript: call.TranscriptText, Analysis: analysis, ReceivedAt: call.ReceivedAt,
		PriorCalls: call.PriorCalls}, s.Mapping)
	var ids []int64
	var entries []audit.Entry
	for _, spec := range res.Specs {
		id, err := s.insertCase(tx, call, spec)
		if err != nil {
			return nil, nil, err
		}
		if id != 0 {
			ids = append(ids, id)
			entries = append(entries, entry("case.created", "case", id, map[string]any{
				"kind": string(spec.Kind), "confidence": spec.Confidence, "urgency": spec.Urgency, "call_id": call.ID,
			}))
		}
	}
	return ids, entries, nil
}

func (s *Service) insertCase(tx *gorm.DB, call storedCall, spec triage.Spec) (int64, error) {
	reasons := append([]string(nil), spec.Reasons...)
	var amount *int64
	currency := strings.ToUpper(strings.TrimSpace(spec.Currency))
	if spec.AmountText != "" {
		a, err := money.ParseMajor(spec.AmountText, currency)
		if err != nil {
			reasons = append(reasons, "amount not usable: "+err.Error())
		} else {
			amount, currency = &a.Minor, a.Currency
		}
	}
	suspected := ""
	if spec.Kind == triage.Review {
		suspected = suspectedKind(reasons)
	}
	reasonsJSON, _ := json.Marshal(reasons)
	label := firstNonEmpty(call.CustomerName, call.CustomerEmail, call.CustomerNumber)
	owner := s.Owners[spec.Kind]
	if owner == "" {
		owner = DefaultOwners[spec.Kind]
	}
	// The id is drawn first so the record URL is written by the same statement.
	var id int64
	err := tx.Raw(`WITH n AS (SELECT nextval(pg_get_serial_sequence('cases', 'id')) AS id)
		INSERT INTO cases (id, call_id, kind, status, urgency, vip, confidence, reasons, suspected_kind,
			amount_minor, currency, destination_type, destination_ref, customer_label, owner, next_step,
			follow_up_deadline, record_url, created_at, updated_at)
		SELECT n.id, ?, ?, 'new', ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			CASE WHEN ? = '' THEN '' ELSE ? || '/cases/' || n.id END, ?, ? FROM n
		ON CONFLICT (call_id, kind) DO NOTHING RETURNING id`,
		call.ID, string(spec.Kind), spec.Urgency, spec.VIP, spec.Confidence, string(reasonsJSON), suspected,
		amount, currency, spec.DestinationType, spec.DestinationRef, label, owner, spec.NextStep,
		spec.FollowUpDeadline, s.BaseURL, s.BaseURL, s.now(), s.now()).Scan(&id).Error
	if err != nil {
		return 0, fmt.Errorf("insert %s case: %w", spec.Kind, err)
	}
	return id, nil
}

// suspectedKind finds the kind a review case was suspected to be, from triage's
// reasons ("suspected refund: ...").
func suspectedKind(reasons []string) string {
	for _, r := range reasons {
		for _, k := range triage.Kinds {
			if k != triage.Review && strings.Contains(r, string(k)) {
				return string(k)
			}
		}
	}
	return ""
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// entry is an audit entry of the ingest path (the actor is DialNexa).
func entry(action, objType string, objID int64, summary map[string]any) audit.Entry {
	return audit.Entry{Actor: "dialnexa", Action: action, ObjectType: objType,
		ObjectID: strconv.FormatInt(objID, 10), Outcome: "ok", Summary: summary}
}
