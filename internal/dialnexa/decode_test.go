package dialnexa

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/money"
)

// wantCall lists the fields a test checks; zero values are checked too.
type wantCall struct {
	id, direction, status, from, to, hangup string
	category, categoryID                    string
	initiated                               string // RFC 3339, "" for nil
	duration                                int    // -1 for nil
	turns                                   int
	amount                                  *money.Amount
	analysis                                map[string]any // a subset of Analysis
	transfer                                *Transfer
}

func checkCall(t *testing.T, c *Call, w wantCall) {
	t.Helper()
	if c == nil {
		t.Fatal("Call is nil")
	}
	for _, f := range []struct{ name, got, want string }{
		{"ID", c.ID, w.id}, {"Direction", c.Direction, w.direction}, {"Status", c.Status, w.status},
		{"From", c.From, w.from}, {"To", c.To, w.to}, {"HangupReason", c.HangupReason, w.hangup},
		{"Category", c.Category, w.category}, {"CategoryID", c.CategoryID, w.categoryID},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	switch {
	case w.initiated == "" && c.InitiatedAt != nil:
		t.Errorf("InitiatedAt = %v, want nil", c.InitiatedAt)
	case w.initiated != "":
		want, err := time.Parse(time.RFC3339Nano, w.initiated)
		if err != nil {
			t.Fatal(err)
		}
		if c.InitiatedAt == nil || !c.InitiatedAt.Equal(want) || c.InitiatedAt.Location() != time.UTC {
			t.Errorf("InitiatedAt = %v, want %v in UTC", c.InitiatedAt, want)
		}
	}
	switch {
	case w.duration < 0 && c.DurationSeconds != nil:
		t.Errorf("DurationSeconds = %d, want nil", *c.DurationSeconds)
	case w.duration >= 0 && (c.DurationSeconds == nil || *c.DurationSeconds != w.duration):
		t.Errorf("DurationSeconds = %v, want %d", c.DurationSeconds, w.duration)
	}
	if len(c.Transcript) != w.turns {
		t.Errorf("%d transcript turns, want %d: %+v", len(c.Transcript), w.turns, c.Transcript)
	}
	for k, want := range w.analysis {
		if got, ok := c.Analysis[k]; !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Analysis[%q] = %#v (present %v), want %#v", k, got, ok, want)
		}
	}
	if w.amount != nil {
		n, _ := c.Analysis["amount"].(json.Number)
		cur, _ := c.Analysis["currency"].(string)
		got, err := money.ParseMajor(n.String(), cur)
		if err != nil || got != *w.amount {
			t.Errorf("analysis amount %q %q = %+v, %v; want %+v", n, cur, got, err, *w.amount)
		}
	}
	if !reflect.DeepEqual(c.Transfer, w.transfer) {
		t.Errorf("Transfer = %+v, want %+v", c.Transfer, w.transfer)
	}
}

func TestDecodeSamples(t *testing.T) {
	t.Parallel()
	tests := map[string]wantCall{
		"refund-request.json": {
			id: "call_rf7k2m9q4xbt", direction: "inbound", status: "completed",
			from: "+14155550142", to: "+18005550199", hangup: "user_disconnected",
			initiated: "2026-11-24T15:02:11.482Z", duration: 214, turns: 6,
			amount: &money.Amount{Minor: 24900, Currency: "USD"},
			analysis: map[string]any{
				"call_intent": "refund_request", "invoice_number": "INV-20931", "payment_id": nil,
				"approval_required": true, "issue_resolved": false, "follow_up_deadline": "2026-11-26",
			},
		},
		"charge-dispute.json": {
			id: "call_dp3v8n1w6yhs", direction: "inbound", status: "completed",
			from: "+12125550187", to: "+18005550199", hangup: "agent_disconnected",
			initiated: "2026-11-24T16:40:03.117Z", duration: 388, turns: 6,
			amount: &money.Amount{Minor: 8900, Currency: "USD"},
			analysis: map[string]any{
				"call_intent": "charge_dispute", "invoice_number": nil, "payment_id": "PAY-77311",
				"approval_required": true,
			},
			transfer: &Transfer{Destination: "+14155550100", Status: "connected", DestinationID: "transfer_billing_desk"},
		},
		"collections-promise-to-pay.json": {
			id: "call_cl5t0r2p8jke", direction: "outbound", status: "completed",
			category: "batch", categoryID: "batch_nov_overdue_01",
			from: "+18005550123", to: "+13125550166", hangup: "user_disconnected",
			initiated: "2026-11-24T10:15:44.902Z", duration: 167, turns: 6,
			amount: &money.Amount{Minor: 42000, Currency: "USD"},
			analysis: map[string]any{
				"call_intent": "collections", "invoice_number": "INV-20577", "promise_to_pay": true,
				"promise_to_pay_amount": json.Number("210.0"), "promise_to_pay_date": "2026-12-05",
			},
		},
		"receipt-resend.json": {
			id: "call_rc9h4d6s1znq", direction: "inbound", status: "completed",
			from: "+16175550133", to: "+18005550199", hangup: "user_disconnected",
			initiated: "2026-11-24T18:05:29.360Z", duration: 96, turns: 6,
			analysis: map[string]any{
				"call_intent": "receipt_resend", "receipt_number": "RCPT-10442",
				"customer_email_verified": true, "follow_up_deadline": nil,
			},
		},
		"no-answer.json": {
			id: "call_na2b7g5f3wuy", direction: "outbound", status: "hangup",
			category: "batch", categoryID: "batch_nov_overdue_01",
			from: "+18005550123", to: "+17735550191", hangup: "user_did_not_pick_up",
			initiated: "2026-11-24T10:16:02.255Z", duration: -1, turns: 0,
		},
	}
	sigs := sampleSignatures(t)
	if len(sigs) != len(tests) {
		t.Errorf("SIGNATURES lists %d samples, the test knows %d", len(sigs), len(tests))
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, "samples", name)
			if err := Verify(header(HeaderSignature, sigs[name]), body, []string{testSecret}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			ev, err := Decode(body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Kind != KindEnded || ev.EventType != "call_ended" {
				t.Errorf("Kind, EventType = %q, %q; want ended, call_ended", ev.Kind, ev.EventType)
			}
			checkCall(t, ev.Call, want)
			if want.turns > 0 {
				c := ev.Call
				if c.Transcript[0].Speaker != "agent" || c.Transcript[1].Speaker != "caller" {
					t.Errorf("speakers = %q, %q; want agent, caller", c.Transcript[0].Speaker, c.Transcript[1].Speaker)
				}
				if c.Summary == "" || !strings.HasPrefix(c.RecordingURL, "https://recordings.dialnexa.com/"+c.ID) {
					t.Errorf("Summary %q, RecordingURL %q", c.Summary, c.RecordingURL)
				}
			}
		})
	}
}

// The samples' transcripts survive a parse and render round trip, with
// "User:" renamed "Caller:".
func TestTranscriptTextSamples(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "samples", "refund-request.json")
	var raw struct {
		Payload struct {
			Call struct{ Transcript string }
		}
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(raw.Payload.Call.Transcript, "User: ", "Caller: ")
	if got := TranscriptText(ev.Call.Transcript); got != want {
		t.Errorf("TranscriptText =\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeEnvelopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file      string
		kind      EventKind
		eventType string
		timestamp string // RFC 3339, "" for nil
		call      *wantCall
	}{
		{file: "current-initiated.json", kind: KindInitiated, eventType: "call_initiated", call: &wantCall{
			id: "call_in1tiat3d", direction: "outbound", status: "initiated", category: "batch",
			categoryID: "batch_nov_overdue_01", from: "+18005550123", to: "+13125550166",
			initiated: "2026-11-24T10:15:44.902Z", duration: -1,
		}},
		{file: "transfer-completed.json", kind: KindTransfer, eventType: "transfer_completed", call: &wantCall{
			id: "call_dp3v8n1w6yhs", direction: "inbound", status: "in_progress",
			from: "+12125550187", to: "+18005550199", duration: -1,
			transfer: &Transfer{Destination: "sip:billing@pbx.example.com", Status: "connected", DestinationID: "transfer_billing_desk"},
		}},
		{file: "verification-message.json", kind: KindVerification, timestamp: "2026-11-24T10:00:00Z"},
		{file: "verification-event-type.json", kind: KindVerification, eventType: "verification", timestamp: "2025-11-24T16:00:00Z"},
		{file: "dotted-call-completed.json", kind: KindEnded, eventType: "call.completed", call: &wantCall{
			id: "call_dt1c0mpl3t", direction: "inbound", status: "completed",
			from: "+442079460958", to: "+18005550199", initiated: "2026-11-24T15:02:11Z",
			duration: 214, turns: 3, amount: &money.Amount{Minor: 124950, Currency: "GBP"},
			analysis: map[string]any{"nested": map[string]any{"k": []any{json.Number("1"), "two", false}}},
		}},
		{file: "dotted-call-failed.json", kind: KindEnded, eventType: "call.failed", call: &wantCall{
			id: "call_f41l3d", direction: "outbound", status: "hangup",
			from: "+18005550123", to: "5550100", hangup: "unallocated_phone_number", duration: 0,
		}},
		{file: "dotted-call-no-answer.json", kind: KindEnded, eventType: "call.no_answer", call: &wantCall{
			id: "call_n0answ3r", direction: "outbound", status: "hangup",
			to: "+17735550191", hangup: "user_did_not_pick_up", duration: -1,
		}},
		{file: "flat-call-started.json", kind: KindInitiated, eventType: "call.started", timestamp: "2026-11-24T15:02:11Z", call: &wantCall{
			id: "sess_5t4rt3d", direction: "inbound", from: "+14155550142",
			initiated: "2026-11-24T15:02:11Z", duration: -1,
		}},
		{file: "flat-call-ended.json", kind: KindEnded, eventType: "call.ended", timestamp: "2026-11-24T10:18:31Z", call: &wantCall{
			id: "call_fl4t3nd3d", direction: "outbound", to: "+13125550166", duration: 167, turns: 3,
			analysis: map[string]any{"call_intent": "collections", "promise_to_pay": false},
		}},
		{file: "flat-transcript-ready.json", kind: KindUpdate, eventType: "call.transcript_ready", timestamp: "2026-11-24T10:20:00Z", call: &wantCall{
			id: "sess_tr4nscr1pt", duration: -1, turns: 2,
		}},
		{file: "flat-analysis-ready.json", kind: KindUpdate, eventType: "call.analysis_ready", timestamp: "2025-11-24T16:00:00.123Z", call: &wantCall{
			id: "call_4n4lys1s", duration: -1, amount: &money.Amount{Minor: 1200, Currency: "JPY"},
			analysis: map[string]any{"approval_required": true},
		}},
		{file: "ignored-unknown-event.json", kind: KindIgnored, eventType: "agent.updated"},
		{file: "ignored-call-without-name.json", kind: KindIgnored},
		{file: "ignored-array.json", kind: KindIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ev, err := Decode(readTestdata(t, "envelopes", tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Kind != tt.kind || ev.EventType != tt.eventType {
				t.Errorf("Kind, EventType = %q, %q; want %q, %q", ev.Kind, ev.EventType, tt.kind, tt.eventType)
			}
			if got := formatTime(ev.Timestamp); got != tt.timestamp {
				t.Errorf("Timestamp = %s, want %s", got, tt.timestamp)
			}
			if tt.call == nil {
				if ev.Call != nil {
					t.Errorf("Call = %+v, want nil", ev.Call)
				}
				return
			}
			checkCall(t, ev.Call, *tt.call)
		})
	}
}

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// Details of the envelope files above that the table does not cover.
func TestDecodeEnvelopeDetails(t *testing.T) {
	t.Parallel()
	decode := func(file string) *Call {
		t.Helper()
		ev, err := Decode(readTestdata(t, "envelopes", file))
		if err != nil || ev.Call == nil {
			t.Fatalf("Decode(%s) = %+v, %v", file, ev, err)
		}
		return ev.Call
	}

	c := decode("dotted-call-completed.json")
	want := []Turn{
		{Speaker: "agent", Text: "Acme billing, how can I help?", At: "0.4"},
		{Speaker: "caller", Text: "I need a refund of 1249.50 pounds.", At: "3.1"},
		{Speaker: "system", Text: "caller verified"},
	}
	if !reflect.DeepEqual(c.Transcript, want) {
		t.Errorf("array transcript = %+v, want %+v", c.Transcript, want)
	}

	c = decode("flat-call-ended.json")
	want = []Turn{
		{Speaker: "agent", Text: "Hi, this is Nova from Acme."},
		{Speaker: "caller", Text: "Hello?\nI can't hear you well."},
		{Speaker: "agent", Text: "The time is 10:30, I'll call back."},
	}
	if !reflect.DeepEqual(c.Transcript, want) {
		t.Errorf("string transcript = %+v, want %+v", c.Transcript, want)
	}
	if c.WorkspaceID != "ws_acme" || c.AgentID != "agent_legacy01" || c.Summary != "Bad line; agent will call back." {
		t.Errorf("flat fields: %+v", c)
	}

	c = decode("flat-transcript-ready.json")
	if c.Transcript[1] != (Turn{Speaker: "caller", Text: "Hi there", At: "00:00:03"}) {
		t.Errorf("speaker/message/timestamp turn = %+v", c.Transcript[1])
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      []byte
		malformed bool
		msg       string
	}{
		{"no call id", readTestdata(t, "envelopes", "error-no-call-id.json"), false, "dialnexa: call_ended event without call id"},
		{"flat without call id", readTestdata(t, "envelopes", "error-flat-no-call-id.json"), false, "dialnexa: call.ended event without call id"},
		{"transfer without call", []byte(`{"event_type":"transfer_completed","payload":{"call_transfer":{"status":"connected"}}}`), false, "transfer_completed event without call id"},
		{"truncated", readTestdata(t, "envelopes", "error-malformed.json"), true, "dialnexa: malformed JSON"},
		{"trailing value", readTestdata(t, "envelopes", "error-trailing.json"), true, "data after the JSON value"},
		{"empty", nil, true, "empty body"},
		{"blank", []byte(" \n"), true, "empty body"},
		{"not JSON", []byte("event_type=call_ended"), true, "malformed JSON"},
	}
	for _, tt := range tests {
		ev, err := Decode(tt.body)
		if err == nil {
			t.Errorf("%s: Decode = %+v, want error", tt.name, ev)
			continue
		}
		if errors.Is(err, ErrMalformed) != tt.malformed || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %q (malformed %v), want %q (malformed %v)", tt.name, err, errors.Is(err, ErrMalformed), tt.msg, tt.malformed)
		}
	}
}

func TestDecodeLenientValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		call     string // JSON object fields of payload.call
		duration int    // -1 for nil
		check    func(*Call) bool
	}{
		{"duration number", `"duration": 388`, 388, nil},
		{"duration float", `"duration": 387.5`, 388, nil},
		{"duration string", `"duration": " 96 "`, 96, nil},
		{"duration_seconds", `"duration_seconds": 12`, 12, nil},
		{"duration_in_seconds string", `"duration_in_seconds": "7.0"`, 7, nil},
		{"duration precedence", `"duration_in_seconds": 3, "duration": 4`, 4, nil},
		{"duration negative", `"duration": -5`, -1, nil},
		{"duration junk", `"duration": "soon"`, -1, nil},
		{"duration bool", `"duration": true`, -1, nil},
		{"numeric id", `"id": 12345`, -1, func(c *Call) bool { return c.ID == "12345" }},
		{"id fallback call_id", `"id": "", "call_id": "c2"`, -1, func(c *Call) bool { return c.ID == "c2" }},
		{"hangup alias", `"disconnection_reason": "user_busy"`, -1, func(c *Call) bool { return c.HangupReason == "user_busy" }},
		{"hangup old name", `"hangup_reason": "invalid_phone_number"`, -1, func(c *Call) bool { return c.HangupReason == "unallocated_phone_number" }},
		{"initiated unix", `"initiated_at": 1764000000`, -1, func(c *Call) bool {
			return c.InitiatedAt != nil && c.InitiatedAt.Equal(time.Unix(1764000000, 0))
		}},
		{"initiated junk", `"initiated_at": "yesterday"`, -1, func(c *Call) bool { return c.InitiatedAt == nil }},
		{"analysis precedence", `"extracted_data": {"a": 1}, "post_call_analysis": {"a": 2}`, -1, func(c *Call) bool {
			return c.Analysis["a"] == json.Number("2")
		}},
		{"analysis null", `"post_call_analysis": null, "analysis": {"a": "x"}`, -1, func(c *Call) bool { return c.Analysis["a"] == "x" }},
		{"analysis not an object", `"post_call_analysis": [1, 2]`, -1, func(c *Call) bool { return c.Analysis == nil }},
		{"transcript object ignored", `"transcript": {"text": "hi"}`, -1, func(c *Call) bool { return c.Transcript == nil }},
		{"phone_number inbound", `"direction": "inbound", "phone_number": "4155550142"`, -1, func(c *Call) bool {
			return c.From == "+14155550142" && c.To == ""
		}},
		{"phone_number does not override", `"from_number": "+14155550100", "phone_number": "4155550142"`, -1, func(c *Call) bool {
			return c.From == "+14155550100"
		}},
	}
	for _, tt := range tests {
		body := `{"event_type": "call_ended", "payload": {"call": {"id": "call_1", ` + tt.call + `}}}`
		if strings.Contains(tt.call, `"id"`) {
			body = `{"event_type": "call_ended", "payload": {"call": {` + tt.call + `}}}`
		}
		ev, err := Decode([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		d := ev.Call.DurationSeconds
		if (tt.duration < 0) != (d == nil) || d != nil && *d != tt.duration {
			t.Errorf("%s: DurationSeconds = %v, want %d", tt.name, d, tt.duration)
		}
		if tt.check != nil && !tt.check(ev.Call) {
			t.Errorf("%s: unexpected call %+v", tt.name, ev.Call)
		}
	}
}

func TestDecodeEventNames(t *testing.T) {
	t.Parallel()
	tests := map[string]EventKind{
		`{"event_type": "CALL_ENDED", "payload": {"call": {"id": "c"}}}`:       KindEnded,
		`{"event_type": " call.completed ", "call": {"id": "c"}}`:              KindEnded,
		`{"event": "call_initiated", "call_id": "c"}`:                          KindInitiated,
		`{"event_type": "call_ended", "event": "x", "call_id": "c"}`:           KindEnded,
		`{"event_type": 7, "payload": {"call": {"id": "c"}}}`:                  KindIgnored,
		`{"event_type": "", "message": "hi"}`:                                  KindIgnored,
		`{"event_type": "call.transferred", "payload": {"call": {"id": "c"}}}`: KindIgnored,
		`{}`:                   KindVerification,
		`{"timestamp": "now"}`: KindVerification,
		`null`:                 KindIgnored,
		`"call_ended"`:         KindIgnored,
		`42`:                   KindIgnored,
	}
	for body, want := range tests {
		ev, err := Decode([]byte(body))
		if err != nil || ev.Kind != want {
			t.Errorf("Decode(%s) = %q, %v; want %q", body, ev.Kind, err, want)
		}
		if (ev.Call == nil) != (want == KindIgnored || want == KindVerification) {
			t.Errorf("Decode(%s): Call = %+v", body, ev.Call)
		}
	}
}
