package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/models"
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

// redactCall shapes a call decoded from an already redacted delivery (whose
// suppression counts are counts) for storage. It redacts nothing itself.
func redactCall(c *dialnexa.Call, counts redact.Counts) (redactedCall, error) {
	r := redactedCall{c: c, summary: c.Summary, turns: make([]turnJSON, 0, len(c.Transcript)), suppressed: counts}
	for _, t := range c.Transcript {
		r.turns = append(r.turns, turnJSON{Speaker: t.Speaker, Text: t.Text, At: t.At})
	}
	r.text = dialnexa.TranscriptText(c.Transcript)
	r.fields = json.RawMessage("{}")
	if len(c.Analysis) > 0 {
		raw, err := json.Marshal(c.Analysis)
		if err != nil {
			return r, fmt.Errorf("encode analysis: %w", err)
		}
		r.fields = raw
		// Decoded with UseNumber, as analysisString and analysisBool read it.
		r.analysis = c.Analysis
	}
	return r, nil
}

// storedCall is the merged call row as it stands after the upsert: the columns of
// models.Call that triage reads (storeCallSQL returns only those), and the count of
// earlier calls from the same number.
type storedCall struct {
	models.Call
	PriorCalls int // earlier calls from the number in 30 days, capped at 3
}

// bare reports a completed call that came without transcript and analysis: the
// backfill job fetches them from DialNexa.
func (c storedCall) bare() bool {
	return (c.Status == "completed" || c.Status == "ended") && c.TranscriptText == "" &&
		(len(c.Fields) == 0 || string(c.Fields) == "{}")
}

// callEvent is one verified call event on its way into the database.
type callEvent struct {
	body   json.RawMessage // the delivery after redact.JSON
	counts redact.Counts   // what redact.JSON suppressed in it, documents named included
	// found are the originals of its restricted values, for the vault; restricted
	// says it named a private document (passport, tax return, bank statement).
	found      []redact.Finding
	restricted bool
	digest     []byte
	ev         dialnexa.Event
	// From the webhook inbox (inbox.go): when the delivery was acknowledged, and its
	// inbox row, deleted in the transaction that files it. Zero otherwise.
	at      time.Time
	inboxID int64
}

// storeCalls writes call events in one transaction of two round trips on a
// connection of its own, pipelined with pgx (the webhook's hot path: through
// database/sql and one statement at a time it took eight per event):
//
//  1. BEGIN + per event one statement that records the delivery (or finds it a
//     duplicate) and, only if it is new, claims the call's key and merges the call;
//  2. triage runs on the merged calls, then one statement (flushSQL) inserts the
//     batch's cases, their outbox rows and every audit entry, followed by the
//     suppression and backfill statements and COMMIT.
//
// Events run in the order given; the batcher sorts a batch by call id, so that
// concurrent batches take their locks in one order and never deadlock. Anything
// failing rolls the whole transaction back; a connection whose state is in doubt
// is closed, not returned to the pool.
func (s *Service) storeCalls(ctx context.Context, evs []callEvent) (res []Result, err error) {
	type prepared struct {
		rc      redactedCall
		args    []any
		call    storedCall
		version *int64  // the call_versions row, when the call was decided and this changed it
		flagged []int64 // the decided cases of that call, now flagged
		changed []string
	}
	ps := make([]prepared, len(evs))
	for i, e := range evs {
		rc, err := redactCall(e.ev.Call, e.counts)
		if err != nil {
			return nil, err
		}
		at := e.at
		if at.IsZero() {
			at = s.now()
		}
		ps[i] = prepared{rc: rc, args: append(s.storeCallArgs(e.ev, rc, e.digest, e.body, "", e.counts, at), s.restsOn())}
	}
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store delivery: %w", err)
	}
	defer conn.Release() // a connection still in a transaction is closed by the pool
	committed := false
	defer func() {
		if !committed {
			rb, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, rerr := conn.Exec(rb, "ROLLBACK"); rerr != nil {
				_ = conn.Conn().Close(rb)
			}
		}
	}()

	// Round trip 1.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	// This transaction's statements are prepared once per connection (pgx's statement
	// cache), but Postgres re-plans a prepared statement that touches partitioned
	// tables for every execution unless told otherwise, because a custom plan can
	// prune partitions: for storeCallSQL that was 1.3 to 11 ms of planning for 0.3 to
	// 1.9 ms of execution; the generic plan takes 0.05 ms to look up and 0.3 ms to run.
	b.Queue("SET LOCAL plan_cache_mode = force_generic_plan")
	for _, p := range ps {
		b.Queue(storeCallSQL, p.args...)
	}
	br := conn.SendBatch(ctx, b)
	res = make([]Result, len(evs))
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	for i := range ps {
		if err != nil {
			break
		}
		c := &ps[i].call
		var deliveryID int64
		p := &ps[i]
		err = br.QueryRow().Scan(&deliveryID, &c.ID, &c.Status, &c.Summary, &c.TranscriptText,
			&c.Fields, &c.CustomerNumber, &c.CustomerName, &c.CustomerEmail, &c.ReceivedAt,
			&p.version, &p.flagged, &p.changed, &c.PriorCalls)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			res[i], err = Result{Outcome: Duplicate}, nil
		case err == nil && p.version != nil:
			res[i] = Result{Outcome: Versioned, DeliveryID: deliveryID, CallID: c.ID, CaseIDs: p.flagged,
				Suppressed: p.rc.suppressed}
		case err == nil:
			res[i] = Result{Outcome: Stored, DeliveryID: deliveryID, CallID: c.ID, Suppressed: ps[i].rc.suppressed}
		default:
			err = fmt.Errorf("store delivery and call %s: %w", evs[i].ev.Call.ID, err)
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("store deliveries: %w", cerr)
	}
	if err != nil {
		return nil, err
	}

	// Round trip 2: the batch's cases, their outbox rows and every audit entry in one
	// statement, then the suppression and backfill statements, then COMMIT, pipelined.
	// A case.created entry is written only if its case is (the statement joins each
	// entry to the case it names), so no entry names a case that already existed.
	specs := make([][]triage.Spec, len(evs))
	var rows caseRows
	for i := range ps {
		if res[i].Outcome == Stored {
			var captured map[string]triage.Captured
			specs[i], captured = s.classify(ps[i].call)
			s.addCases(&rows, ps[i].call, specs[i], captured)
		}
	}
	type caseKey struct {
		call int64
		kind triage.Kind
	}
	type opened struct {
		event int
		key   caseKey
	}
	var (
		entries   []audit.Entry
		entryCall []int64  // the case's call for a case.created entry, else 0
		entryKind []string // the case's kind for a case.created entry, else ""
		opens     []opened
	)
	add := func(e audit.Entry, k caseKey) {
		entries, entryCall, entryKind = append(entries, e), append(entryCall, k.call), append(entryKind, string(k.kind))
	}
	seen := map[caseKey]bool{}
	later := &pgx.Batch{} // the statements after the cases and audit entries
	for i := range ps {
		if res[i].Outcome != Stored && res[i].Outcome != Versioned {
			continue
		}
		call, ev := ps[i].call, evs[i].ev
		if ps[i].version != nil {
			for _, e := range versionEntries(ps[i].call.ID, *ps[i].version, ps[i].flagged, ps[i].changed, ev) {
				add(e, caseKey{})
			}
			// The version's originals go to the vault and its protections apply to the
			// call; they restrict who may read it, they change no decided value.
			if err := s.queueSuppression(later, call.ID, evs[i]); err != nil {
				return nil, err
			}
			continue
		}
		add(entry("webhook.stored", "call", call.ID, map[string]any{
			"dialnexa_call_id": ev.Call.ID, "event_type": ev.EventType, "status": call.Status,
			"suppressed": ps[i].rc.suppressed.Total(),
		}), caseKey{})
		for _, spec := range specs[i] {
			// A case belongs to the first event of the batch that opened it.
			k := caseKey{call.ID, spec.Kind}
			if seen[k] {
				continue
			}
			seen[k] = true
			opens = append(opens, opened{i, k})
			add(entry("case.created", "case", 0, map[string]any{
				"kind": string(spec.Kind), "confidence": spec.Confidence, "urgency": spec.Urgency, "call_id": call.ID,
			}), k)
		}
		if err := s.queueSuppression(later, call.ID, evs[i]); err != nil {
			return nil, err
		}
		if call.bare() {
			later.Queue(`INSERT INTO job_outbox (kind, call_id) VALUES ('backfill', $1)`, call.ID)
			res[i].Queued++
		}
	}
	var inboxIDs []int64
	for _, e := range evs {
		if e.inboxID != 0 {
			inboxIDs = append(inboxIDs, e.inboxID)
		}
	}
	if len(inboxIDs) > 0 {
		later.Queue(`DELETE FROM webhook_inbox WHERE id = ANY($1)`, inboxIDs)
	}
	b = &pgx.Batch{}
	if len(entries) > 0 {
		auditRows, err := audit.NewRows(entries...)
		if err != nil {
			return nil, err
		}
		args := append(rows.args(s.BaseURL, s.now()), entryCall, entryKind)
		b.Queue(flushSQL, append(args, auditRows.Args()...)...)
	}
	b.QueuedQueries = append(b.QueuedQueries, later.QueuedQueries...)
	b.Queue("COMMIT")
	br = conn.SendBatch(ctx, b)
	created := map[caseKey]int64{}
	if len(entries) > 0 {
		qr, err := br.Query()
		if err == nil {
			var id, callID int64
			var kind string
			_, err = pgx.ForEachRow(qr, []any{&id, &callID, &kind}, func() error {
				created[caseKey{callID, triage.Kind(kind)}] = id
				return nil
			})
		}
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("insert cases and audit entries: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("store calls: %w", err)
	}
	committed = true
	for _, o := range opens {
		if id := created[o.key]; id != 0 {
			res[o.event].CaseIDs = append(res[o.event].CaseIDs, id)
		}
	}
	for i := range res {
		if res[i].Outcome == Stored {
			res[i].Queued += len(res[i].CaseIDs)
		}
	}
	return res, nil
}

// storeCallSQL records the delivery and, only when it is new, merges the event into
// its call: call_keys makes the DialNexa id unique across the monthly partitions of
// calls (the first event of a call claims its key, and so its id and month; a later
// one finds the key, waiting for a concurrent first one to commit, and merges into
// the same row). Text fields only ever gain content; the status only moves forward
// (call_status_rank); analysis fields merge key by key. No row back means duplicate.
const storeCallSQL = `WITH d AS (INSERT INTO webhook_deliveries
		(source, raw_sha256, event_type, call_ref, dedup_key, outcome, body, body_text, suppressed)
		VALUES ('dialnexa', $1, $2, $3, $4, 'stored', $5::jsonb, $6, $7::jsonb)
		ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id),
	k AS (INSERT INTO call_keys AS k (dialnexa_id, call_id, received_at)
		SELECT $3, nextval('calls_id_seq'), $8::timestamptz WHERE EXISTS (SELECT 1 FROM d)
		ON CONFLICT (dialnexa_id) DO UPDATE SET dialnexa_id = k.dialnexa_id
		RETURNING call_id, received_at),
	old AS (SELECT c.id, c.status, c.summary, c.transcript_text, c.fields, c.customer_number, c.customer_name,
			c.customer_email, c.received_at
		FROM calls c, k WHERE c.id = k.call_id AND c.received_at = k.received_at),
	diff AS (SELECT jsonb_object_agg(x.key, jsonb_build_object('was', x.was, 'now', x.now)) AS changed
		FROM (SELECT f.key, o.fields -> f.key AS was, $27::jsonb -> f.key AS now FROM old o, unnest($32::text[]) f(key)
			UNION ALL
			SELECT v.key, to_jsonb(v.was), to_jsonb(v.now) FROM old o, LATERAL (VALUES
				('customer_email', o.customer_email, $29::text), ('customer_name', o.customer_name, $28::text),
				('customer_number', o.customer_number, $15::text)) v(key, was, now)) x
		WHERE x.now IS NOT NULL AND x.now NOT IN ('null'::jsonb, '""'::jsonb) AND x.was IS DISTINCT FROM x.now
			AND EXISTS (SELECT 1 FROM cases cs, k WHERE cs.call_id = k.call_id AND cs.status <> 'new')),
	ver AS (INSERT INTO call_versions (call_id, call_received_at, delivery_id, received_at, changed, status, summary,
			transcript_text, fields, customer_name, customer_email, customer_number)
		SELECT k.call_id, k.received_at, d.id, $8, diff.changed, $11, $22, $24, $27::jsonb, $28, $29, $15
		FROM k, d, diff WHERE diff.changed IS NOT NULL RETURNING id, changed),
	flag AS (UPDATE cases SET call_changed_at = $8
		WHERE call_id = (SELECT call_id FROM k) AND status <> 'new' AND EXISTS (SELECT 1 FROM ver) RETURNING id),
	up AS (INSERT INTO calls AS c (id, received_at, dialnexa_id, direction, call_type, status, category, from_number,
			to_number, customer_number, agent_id, initiated_at, ended_at, duration_seconds, hangup_reason, transfer,
			summary, transcript, transcript_text, recording_url, recording_expires_at, fields, customer_name,
			customer_email, vip, suppressed, updated_at)
		SELECT k.call_id, k.received_at, $3, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
			$21::jsonb, $22, $23::jsonb, $24, $25, $26, $27::jsonb, $28, $29, $30, $31::jsonb, $8 FROM k
		WHERE NOT EXISTS (SELECT 1 FROM ver)
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
		RETURNING id, status, summary, transcript_text, fields, customer_number, customer_name, customer_email, received_at),
	-- The call as it now stands: merged, or as it was when the delivery became a version.
	cur AS (SELECT * FROM up UNION ALL SELECT o.* FROM old o WHERE EXISTS (SELECT 1 FROM ver))
	SELECT d.id, up.id, up.status, up.summary, up.transcript_text, up.fields::text, up.customer_number,
		up.customer_name, up.customer_email, up.received_at,
		(SELECT id FROM ver), (SELECT array_agg(id ORDER BY id) FROM flag),
		(SELECT array_agg(key ORDER BY key) FROM ver, jsonb_object_keys(ver.changed) key),
		-- ORDER BY makes it an ordered index scan that stops after three entries; without
		-- it Postgres chose a bitmap scan reading every call from the number in 30 days
		-- (2 ms per delivery at 6,000 of them, growing with each call).
		(SELECT count(*) FROM (SELECT 1 FROM calls o WHERE up.customer_number <> ''
			AND o.customer_number = up.customer_number AND o.id <> up.id
			AND o.received_at > up.received_at - interval '30 days'
			ORDER BY o.received_at DESC LIMIT 3) p)::int
	FROM d, cur up`

func (s *Service) storeCallArgs(ev dialnexa.Event, rc redactedCall, digest []byte, body json.RawMessage, text string, bodyCounts redact.Counts, now time.Time) []any {
	c := ev.Call
	customer := c.From
	if strings.EqualFold(c.Direction, "outbound") {
		customer = c.To
	}
	status := dialnexa.NormalStatus(c.Status)
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
	var transfer *string
	if c.Transfer != nil {
		b, _ := json.Marshal(map[string]string{"destination": c.Transfer.Destination, "status": c.Transfer.Status, "destination_id": c.Transfer.DestinationID})
		t := string(b)
		transfer = &t
	}
	turns, _ := json.Marshal(rc.turns)
	name, email, vip := analysisString(rc.analysis, "customer_name"), analysisString(rc.analysis, "customer_email"), analysisBool(rc.analysis, "vip")
	return []any{
		digest, truncateUTF8(ev.EventType, 200), c.ID, DedupKey(ev), nullJSON(body), text, string(countsJSON(bodyCounts)), // $1–$7
		now,                                                                                       // $8
		c.Direction, c.Type, status, c.Category, c.From, c.To, customer, c.AgentID, c.InitiatedAt, // $9–$17
		endedAt, c.DurationSeconds, c.HangupReason, transfer, rc.summary, string(turns), rc.text, // $18–$24
		c.RecordingURL, recordingExpires, string(rc.fields), name, email, vip, // $25–$30
		string(countsJSON(rc.suppressed)), // $31
	}
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

// restsOn names the post-call analysis fields a decided case rests on (amount,
// currency, invoice, payment id, customer, email) under the configured mapping; the
// call's customer number, name and email columns are compared besides.
func (s *Service) restsOn() []string {
	m := s.Mapping
	var keys []string
	for _, k := range []string{m.Amount, m.Currency, m.InvoiceNumber, m.PaymentID, m.CustomerEmail, m.CustomerName, m.CustomerID} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// versionEntries audit a delivery kept as a version of a decided call: one entry for
// the call, one for each case flagged. They name the fields that differ, never their
// values (those are in call_versions, as redacted as the call).
func versionEntries(callID, versionID int64, cases []int64, changed []string, ev dialnexa.Event) []audit.Entry {
	out := []audit.Entry{entry("call.changed_after_decision", "call", callID, map[string]any{
		"dialnexa_call_id": ev.Call.ID, "event_type": ev.EventType, "version_id": versionID, "changed": changed,
		"cases": cases})}
	for _, id := range cases {
		out = append(out, entry("case.call_changed_after_decision", "case", id, map[string]any{
			"call_id": callID, "version_id": versionID, "changed": changed}))
	}
	return out
}

// classify runs triage over the merged call: its case specs and the brief's
// capture list.
func (s *Service) classify(call storedCall) ([]triage.Spec, map[string]triage.Captured) {
	var analysis map[string]any
	if len(call.Fields) > 0 {
		dec := json.NewDecoder(bytes.NewReader(call.Fields))
		dec.UseNumber()
		_ = dec.Decode(&analysis)
	}
	in := triage.Input{CallID: strconv.FormatInt(call.ID, 10), Status: call.Status,
		Summary: call.Summary, Transcript: call.TranscriptText, Analysis: analysis, ReceivedAt: call.ReceivedAt,
		PriorCalls: call.PriorCalls, CriticalAmounts: s.CriticalAmounts}
	res := triage.Classify(in, s.Mapping)
	if len(res.Specs) == 0 {
		return nil, nil
	}
	return res.Specs, triage.Capture(in, res.Fields)
}

// casesCTEs insert the cases a call does not have yet (one per kind), each
// with its record URL, an outbox row for its claim check and, for a case that may
// need a finance alert (a VIP, a dispute, a payment blocker), one for its alert
// check; c holds the new ones. Rows come from parallel arrays, so the statement's
// shape never depends on the values or their count.
const casesCTEs = `WITH c AS (INSERT INTO cases (id, call_id, kind, status, urgency, vip, confidence, reasons,
			suspected_kind, amount_minor, currency, destination_type, destination_ref, customer_label, owner,
			next_step, follow_up_deadline, record_url, capture, created_at, updated_at)
		SELECT s.id, s.call_id, s.kind, 'new', s.urgency, s.vip, s.confidence, s.reasons::jsonb, s.suspected, s.amount,
			s.currency, s.dtype, s.dref, s.label, s.owner, s.next_step, s.deadline,
			CASE WHEN $1 = '' THEN '' ELSE $1 || '/cases/' || s.id END, s.capture::jsonb, $2, $2
		FROM (SELECT nextval('cases_id_seq') AS id, u.* FROM unnest($3::bigint[], $4::text[], $5::text[],
			$6::smallint[], $7::bool[], $8::real[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[],
			$14::text[], $15::text[], $16::text[], $17::timestamptz[], $18::text[]) WITH ORDINALITY
			AS u(call_id, label, kind, urgency, vip, confidence, reasons, suspected, amount, currency, dtype, dref,
				owner, next_step, deadline, capture, ord)
			ORDER BY u.ord) s
		ON CONFLICT (call_id, kind) DO NOTHING RETURNING id, call_id, kind, vip),
	o AS (INSERT INTO job_outbox (kind, case_id) SELECT 'enrich', id FROM c
		UNION ALL SELECT 'alerts', id FROM c WHERE c.vip OR c.kind IN ('dispute', 'payment_blocker', 'review'))`

// flushSQL inserts casesCTEs' cases and outbox rows, returns the new cases, and
// writes the batch's audit entries in order: $19 and $20 name, for each entry, the
// case (call id and kind) a case.created entry records (0 and the empty kind for
// any other entry), and $21 to $30 are the entries (audit.Rows). A case.created
// entry is written, with its case's id as object id, only when the statement
// inserted that case; one for a case the call already had is dropped.
var flushSQL = casesCTEs + `,
	a AS (INSERT INTO audit_log (` + audit.RowColumns + `)
		SELECT ` + audit.RowValues("e", "COALESCE(c.id::text, e.object_id)") + `
		FROM ` + audit.RowsFrom(21, "e") + `
			JOIN unnest($19::bigint[], $20::text[]) WITH ORDINALITY AS x(call_id, kind, ord) ON x.ord = e.ord
			LEFT JOIN c ON c.call_id = x.call_id AND c.kind = x.kind
		WHERE x.kind = '' OR c.id IS NOT NULL
		ORDER BY e.ord)
	SELECT id, call_id, kind FROM c`

// caseRows are the cases of a batch, as the parallel arrays casesCTEs take.
type caseRows struct {
	callIDs                                                      []int64
	labels, kinds, reasons, suspected, currencies, dtypes, drefs []string
	owners, steps                                                []string
	urgencies                                                    []int16
	vips                                                         []bool
	confidences                                                  []float32
	amounts                                                      []*int64
	deadlines                                                    []*time.Time
	captures                                                     []string
}

func (s *Service) addCases(r *caseRows, call storedCall, specs []triage.Spec, captured map[string]triage.Captured) {
	label := firstNonEmpty(call.CustomerName, call.CustomerEmail, call.CustomerNumber)
	capture := "{}"
	if len(captured) > 0 {
		b, _ := json.Marshal(captured)
		capture = string(b)
	}
	for _, spec := range specs {
		rs := append([]string(nil), spec.Reasons...)
		currency := strings.ToUpper(strings.TrimSpace(spec.Currency))
		var amount *int64
		if spec.AmountText != "" {
			a, err := money.ParseMajor(spec.AmountText, currency)
			if err != nil {
				rs = append(rs, "amount not usable: "+err.Error())
			} else {
				amount, currency = &a.Minor, a.Currency
			}
		}
		suspected := ""
		if spec.Kind == triage.Review {
			suspected = suspectedKind(rs)
		}
		rj, _ := json.Marshal(rs)
		owner := s.owner(routeCase{kind: spec.Kind, amount: amount, currency: currency,
			region: captured[triage.FieldTaxRegion].Value, vip: spec.VIP})
		r.callIDs = append(r.callIDs, call.ID)
		r.labels = append(r.labels, label)
		r.kinds = append(r.kinds, string(spec.Kind))
		r.reasons = append(r.reasons, string(rj))
		r.suspected = append(r.suspected, suspected)
		r.currencies = append(r.currencies, currency)
		r.dtypes = append(r.dtypes, spec.DestinationType)
		r.drefs = append(r.drefs, spec.DestinationRef)
		r.owners = append(r.owners, owner)
		r.steps = append(r.steps, spec.NextStep)
		r.urgencies = append(r.urgencies, int16(spec.Urgency))
		r.vips = append(r.vips, spec.VIP)
		r.confidences = append(r.confidences, float32(spec.Confidence))
		r.amounts = append(r.amounts, amount)
		r.deadlines = append(r.deadlines, spec.FollowUpDeadline)
		r.captures = append(r.captures, capture)
	}
}

// owner is the first matching route's owner, else the queue's.
func (s *Service) owner(c routeCase) string {
	for _, r := range s.Routes {
		if r.matches(c, majorUnits) {
			return r.Owner
		}
	}
	if o := s.Owners[c.kind]; o != "" {
		return o
	}
	return DefaultOwners[c.kind]
}

// majorUnits is the whole-unit part of a minor amount.
func majorUnits(minor int64, currency string) int64 {
	exp, ok := money.Exponent(currency)
	if !ok {
		exp = 2
	}
	for range exp {
		minor /= 10
	}
	return minor
}

func (r *caseRows) args(baseURL string, now time.Time) []any {
	return []any{baseURL, now, r.callIDs, r.labels, r.kinds, r.urgencies, r.vips, r.confidences, r.reasons,
		r.suspected, r.amounts, r.currencies, r.dtypes, r.drefs, r.owners, r.steps, r.deadlines, r.captures}
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

// queueSuppression adds to b what a call event's suppression needs: its restricted
// originals sealed into the vault, the call flagged for restricted handling when a
// private document was named, and the flag (kinds and counts) copied onto the
// call's cases.
func (s *Service) queueSuppression(b *pgx.Batch, callID int64, e callEvent) error {
	if s.Vault != nil && len(e.found) > 0 {
		q, args, err := s.Vault.InsertStatement(callID, e.found)
		if err != nil {
			return err
		}
		if q != "" {
			b.Queue(q, args...)
		}
	}
	if e.restricted {
		b.Queue(`UPDATE calls SET restricted = true WHERE id = $1 AND NOT restricted`, callID)
	}
	if len(e.counts) > 0 || e.restricted {
		b.Queue(`UPDATE cases SET suppressed = suppressed || $2::jsonb, restricted = restricted OR $3
			WHERE call_id = $1`, callID, string(countsJSON(e.counts)), e.restricted)
	}
	return nil
}
