package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/countersign/countersign/internal/dialnexa"
)

// TestSupportLeadJourney: log in through the built-in provider as a support lead,
// filter a queue, open a case, add a note, assign it, see the timeline.
func TestSupportLeadJourney(t *testing.T) {
	inst := start(t)
	ctx := browser(t)
	login(t, ctx, inst.URL, "sam")
	screenshot(t, ctx, "queue-open")

	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/queues/refund?sort=amount"),
		chromedp.WaitVisible(tid("queue-table")),
	); err != nil {
		t.Fatalf("refund queue: %v", err)
	}
	if title := text(t, ctx, "queue-title"); !strings.Contains(strings.ToLower(title), "refund") {
		t.Errorf("queue title %q", title)
	}
	screenshot(t, ctx, "queue-refunds")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="queue-table"] tbody tr a`)),
		chromedp.WaitVisible(tid("case-title")),
	); err != nil {
		t.Fatalf("open case: %v", err)
	}
	screenshot(t, ctx, "case")

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(tid("note-text"), "Called back: customer confirms the cancellation date. @fiona please review."),
		chromedp.Submit(tid("note-form")),
		chromedp.WaitVisible(tid("note-body")),
	); err != nil {
		t.Fatalf("add note: %v", err)
	}
	if notes := text(t, ctx, "notes"); !strings.Contains(notes, "customer confirms the cancellation date") {
		t.Errorf("note not shown: %q", notes)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(tid("assign-me")),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.WaitVisible(tid("case-assignee")),
	); err != nil {
		t.Fatalf("assign: %v", err)
	}
	if a := text(t, ctx, "case-assignee"); !strings.Contains(a, "Sam") {
		t.Errorf("assignee %q, want Sam", a)
	}
	if tl := text(t, ctx, "timeline"); !strings.Contains(strings.ToLower(tl), "assign") {
		t.Errorf("timeline does not show the assignment: %q", tl)
	}
	screenshot(t, ctx, "case-after-note")

	// A note carrying a card number is refused, and the typed text is kept.
	here, _ := chromedp.Run(ctx, chromedp.Location())
	if err := chromedp.Do(ctx,
		chromedp.Navigate(here),
		chromedp.WaitVisible(tid("note-text")),
		chromedp.SendKeys(tid("note-text"), "Customer read 4242 4242 4242 4242 to me"),
		chromedp.Submit(tid("note-form")),
		chromedp.WaitVisible(tid("note-error")),
	); err != nil {
		t.Fatalf("refused note: %v", err)
	}
	kept, _ := chromedp.Run(ctx, chromedp.Value(tid("note-text")))
	if e := text(t, ctx, "note-error"); !strings.Contains(strings.ToLower(e), "card") || !strings.Contains(kept, "read") {
		t.Errorf("refusal %q, kept %q", e, kept)
	}
}

// TestHostileTranscriptIsInert posts a call whose transcript and summary carry script,
// attribute breakers and javascript: links, then checks the case page shows them as
// text and runs nothing.
func TestHostileTranscriptIsInert(t *testing.T) {
	inst := start(t)
	body := []byte(`{"event_type":"call_ended","payload":{"call":{"id":"call_hostile_1","status":"completed","direction":"inbound",
	"from_number":"+14155550999","summary":"Refund please <script>window.__pwned=1</script> \"><img src=x onerror=window.__pwned=2>",
	"transcript":"Agent: Hello\nUser: I want a refund <script>window.__pwned=3</script> see javascript:window.__pwned=4 and <a href=\"javascript:window.__pwned=5\">link</a>",
	"post_call_analysis":{"call_intent":"refund_request","amount":12.5,"currency":"USD","invoice_number":"<b onmouseover=window.__pwned=6>INV-1</b>"}}}}`)
	req, _ := http.NewRequest("POST", inst.URL+"/webhooks/dialnexa", bytes.NewReader(body))
	req.Header.Set("X-DialNexa-Signature", dialnexa.Sign(body, "whsec_test_dialnexa_fixture"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post hostile call: %v %v", err, resp)
	}
	resp.Body.Close()
	var caseID int64
	if err := dbScalar(t, inst, `SELECT c.id FROM cases c JOIN calls k ON k.id = c.call_id WHERE k.dialnexa_id = 'call_hostile_1' LIMIT 1`, &caseID); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	login(t, ctx, inst.URL, "fiona")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/cases/"+itoa(caseID)),
		chromedp.WaitVisible(tid("call-summary")),
		chromedp.Sleep(300*time.Millisecond),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "case-hostile")
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__pwned === undefined ? null : window.__pwned`))
	if err != nil {
		t.Fatal(err)
	}
	if pwned != nil {
		t.Fatalf("hostile content executed: window.__pwned = %v", pwned)
	}
	if s := text(t, ctx, "call-summary"); !strings.Contains(s, "<script>") {
		t.Errorf("summary should show the markup as text, got %q", s)
	}
}
