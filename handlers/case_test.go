package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

func TestCasePage(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "dispute", CustomerLabel: `"><img src=x onerror=alert(1)>`,
		Summary:      `<script>alert("summary")</script>`,
		RecordingURL: "https://recordings.example/call.mp3", Suppressed: map[string]int{"card": 2},
		Transcript: []ct.Turn{{Speaker: "agent", Text: "Hello"},
			{Speaker: "user", Text: `<script>alert(1)</script> payment PAY-77311 <a href="javascript:alert(2)">x</a>`}},
		Fields: map[string]any{"payment_id": "PAY-77311"}})
	h.db.Gorm.Exec("UPDATE cases SET record_url = 'javascript:alert(3)' WHERE id = ?", id)
	path := "/cases/" + strconv.FormatInt(id, 10)

	rec := h.get(fiona, path)
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	turn := testid(body, "turn-1")
	if !strings.Contains(turn, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(turn, "<script>") || strings.Contains(turn, "<a href") {
		t.Fatalf("transcript turn not inert: %s", turn)
	}
	if c := testid(body, "case-customer"); !strings.Contains(c, "&#34;&gt;&lt;img") || strings.Contains(c, "<img") {
		t.Fatalf("customer not inert: %s", c)
	}
	if strings.Contains(body, `<script>alert`) || strings.Contains(body, `href="javascript:`) {
		t.Fatal("hostile content rendered live")
	}
	if !strings.Contains(testid(body, "suppressed"), "2 card numbers suppressed") {
		t.Fatalf("suppression badge: %q", testid(body, "suppressed"))
	}
	if f := testid(body, "field-payment_id"); !strings.Contains(f, `href="#turn-1"`) {
		t.Fatalf("field source link: %s", f)
	}
	if !strings.Contains(testid(body, "recording"), "https://recordings.example/call.mp3") {
		t.Fatal("finance approver should see the recording")
	}
	if !strings.Contains(testid(body, "billing-none"), "Not looked up yet") {
		t.Fatal("billing panel")
	}

	rec = h.get(sam, path)
	wantStatus(t, rec, http.StatusOK)
	if strings.Contains(rec.Body.String(), "recordings.example") || testid(rec.Body.String(), "recording-restricted") == "" {
		t.Fatal("support lead must not see the recording link")
	}
	for _, bad := range []string{"/cases/abc", "/cases/-1", "/cases/1.5", "/cases/99999999", "/cases/99999999999999999999"} {
		wantStatus(t, h.get(sam, bad), http.StatusNotFound)
	}
}

func TestNotes(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	sam := h.user("Sam Support", "sam.support@example.com", auth.SupportLead)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund"})
	path := "/cases/" + strconv.FormatInt(id, 10)

	typed := "Customer read out 4242 4242 4242 4242 <b>twice</b>"
	rec := h.post(fiona, path+"/notes", url.Values{"body": {typed}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	body := rec.Body.String()
	if msg := testid(body, "note-error"); !strings.Contains(msg, "card number") || !strings.Contains(msg, "factual") || strings.Contains(msg, "4242 4242") {
		t.Fatalf("refusal message: %s", msg)
	}
	if text := testid(body, "note-text"); !strings.Contains(unescaped(text), typed) || strings.Contains(text, "<b>") {
		t.Fatalf("typed text not kept (escaped) in the form: %s", text)
	}
	if h.count("SELECT count(*) FROM notes") != 0 || h.count("SELECT count(*) FROM audit_log WHERE summary::text LIKE '%4242%'") != 0 {
		t.Fatal("refused note stored")
	}

	rec = h.post(fiona, path+"/notes", url.Values{"body": {`Promised a refund by Friday. @sam.support <script>alert(1)</script>`}})
	wantStatus(t, rec, http.StatusSeeOther)
	if h.count("SELECT count(*) FROM mentions WHERE user_id = ? AND read_at IS NULL", sam.id) != 1 {
		t.Fatal("mention not created")
	}
	rec = h.get(sam, "/queues/mentions")
	if !strings.Contains(testid(rec.Body.String(), "count-mentions"), ">1<") || testid(rec.Body.String(), "row-"+strconv.FormatInt(id, 10)) == "" {
		t.Fatal("mentions queue")
	}
	rec = h.get(sam, path)
	wantStatus(t, rec, http.StatusOK)
	if note := testid(rec.Body.String(), "note-body"); !strings.Contains(note, "&lt;script&gt;") {
		t.Fatalf("note not escaped: %s", note)
	}
	if h.count("SELECT count(*) FROM mentions WHERE user_id = ? AND read_at IS NULL", sam.id) != 0 {
		t.Fatal("mention still unread after viewing")
	}
	if h.count("SELECT count(*) FROM audit_log WHERE action = 'case.note_added'") != 1 {
		t.Fatal("note not audited")
	}
}

func TestCaseChanges(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	call := ct.InsertCall(t, h.db.Gorm, ct.Case{})
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "review", CallID: call})
	ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", CallID: call})
	path := "/cases/" + strconv.FormatInt(id, 10)

	wantStatus(t, h.post(sam, path+"/assign", url.Values{"assignee": {strconv.FormatInt(sam.id, 10)}}), http.StatusSeeOther)
	rec := h.post(sam, path+"/reclassify", url.Values{"kind": {"refund"}})
	wantStatus(t, rec, http.StatusConflict)
	if !strings.Contains(testid(rec.Body.String(), "flash"), "already has a refund case") {
		t.Fatalf("conflict message: %s", testid(rec.Body.String(), "flash"))
	}
	wantStatus(t, h.post(sam, path+"/reclassify", url.Values{"kind": {"dispute"}}), http.StatusSeeOther)
	wantStatus(t, h.post(sam, path+"/tags", url.Values{"tag": {"chargeback"}}), http.StatusSeeOther)
	wantStatus(t, h.post(sam, path+"/tags", url.Values{"reviewed": {"1"}}), http.StatusSeeOther)
	wantStatus(t, h.post(sam, path+"/tags", url.Values{"tag": {"<bad>"}}), http.StatusBadRequest)
	rec = h.get(sam, path)
	tl := testid(rec.Body.String(), "timeline")
	for _, want := range []string{"changed the assignee", "moved the case", "added a tag", "marked the case reviewed"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline misses %q: %s", want, tl)
		}
	}
	if h.count("SELECT count(*) FROM audit_log WHERE object_type = 'case' AND object_id = ?", strconv.FormatInt(id, 10)) != 4 {
		t.Fatal("audit entries")
	}
	auditor := h.user("Alex Auditor", "alex@example.com", auth.Auditor)
	wantStatus(t, h.get(auditor, path), http.StatusOK)
	wantStatus(t, h.post(auditor, path+"/assign", url.Values{"assignee": {""}}), http.StatusForbidden)
}

// TestCasePageShowsCallChangedAfterDecision: a decided case whose call DialNexa
// changed afterwards says so, naming the fields; an unflagged case says nothing.
func TestCasePageShowsCallChangedAfterDecision(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund"})
	path := "/cases/" + strconv.FormatInt(id, 10)
	if got := testid(h.get(fiona, path).Body.String(), "call-changed"); got != "" {
		t.Fatalf("unflagged case shows %q", got)
	}
	h.db.Gorm.Exec(`INSERT INTO webhook_deliveries (source, raw_sha256, outcome) VALUES ('dialnexa', '\x00', 'stored')`)
	if err := h.db.Gorm.Exec(`INSERT INTO call_versions (call_id, call_received_at, delivery_id, received_at, changed)
		SELECT c.call_id, now(), (SELECT max(id) FROM webhook_deliveries), now(),
			'{"amount": {"was": 249, "now": 9999}, "invoice_number": {"was": "INV-1", "now": "INV-2"}}'
		FROM cases c WHERE c.id = ?`, id).Error; err != nil {
		t.Fatal(err)
	}
	h.db.Gorm.Exec(`UPDATE cases SET status = 'approved', call_changed_at = now() WHERE id = ?`, id)
	got := testid(h.get(fiona, path).Body.String(), "call-changed")
	if !strings.Contains(got, "DialNexa changed this call after it was decided") || !strings.Contains(got, "amount, invoice_number") {
		t.Fatalf("flagged case shows %q", got)
	}
}
