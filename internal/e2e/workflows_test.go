package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBillingWorkflowsInBrowser walks issue #15's workflows on the demo data, in one
// console at 1280x720: a document resend and a refund with its credit note, each
// requested by Sam, approved by finance and followed to the receipts and to the
// admin's sandbox log; a collections promise to pay; the Slack alert of a VIP
// payment blocker; a case the claim check sent to review. Cases are picked by kind
// and state, never by id.
func TestBillingWorkflowsInBrowser(t *testing.T) {
	inst := start(t)
	w := &walker{t: t, inst: inst, ctx: browser(t)}
	if err := chromedp.Do(w.ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	t.Run("document resend", w.documentResend)
	t.Run("refund with credit note", w.refund)
	t.Run("collections promise to pay", w.collections)
	t.Run("alert in Slack", w.alert)
	t.Run("claim check review", w.review)
}

// walker is the browser session the subtests share; as switches persona.
type walker struct {
	t    *testing.T
	inst *instance
	ctx  context.Context
	who  string
}

func (w *walker) as(t *testing.T, persona string) {
	t.Helper()
	if w.who == persona {
		return
	}
	if w.who != "" {
		_ = chromedp.Do(w.ctx, chromedp.Navigate(w.inst.URL+"/"), chromedp.WaitVisible(tid("logout")))
		logout(t, w.ctx)
	}
	w.who = ""
	login(t, w.ctx, w.inst.URL, persona)
	w.who = persona
}

func (w *walker) open(t *testing.T, path, testid string) {
	t.Helper()
	if err := chromedp.Do(w.ctx, chromedp.Navigate(w.inst.URL+path), chromedp.WaitVisible(tid(testid))); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
}

// pick is the first case id the query finds.
func (w *walker) pick(t *testing.T, what, q string) int64 {
	t.Helper()
	var id int64
	if err := dbScalar(t, w.inst, q, &id); err != nil {
		t.Fatalf("the demo has no %s: %v", what, err)
	}
	return id
}

// shot saves the 1280x720 viewport with the element testid at its top.
func (w *walker) shot(t *testing.T, name, testid string) {
	t.Helper()
	if testid != "" {
		_, _ = chromedp.Run(w.ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector('[data-testid="`+testid+`"]');
			if (e) { e.scrollIntoView({block: "start"}); window.scrollBy(0, -8) } return !!e })()`))
	}
	_ = chromedp.Do(w.ctx, chromedp.Sleep(150*time.Millisecond))
	buf, err := chromedp.Run(w.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join(repoRoot(), "artifacts", "screenshots")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
}

// text reads testid's visible text ("" when absent).
func (w *walker) text(testid string) string {
	s, _ := chromedp.Run(w.ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid="`+testid+`"]') || {innerText: ""}).innerText`))
	return s
}

func (w *walker) wantText(t *testing.T, testid string, wants ...string) string {
	t.Helper()
	got := w.text(testid)
	for _, s := range wants {
		if !strings.Contains(got, s) {
			t.Errorf("%s lacks %q:\n%s", testid, s, got)
		}
	}
	return got
}

// request verifies the recipient when the case needs it and asks for approval.
func (w *walker) request(t *testing.T, caseID int64) {
	t.Helper()
	needVerify, _ := chromedp.Run(w.ctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="verify-form"]')`))
	if needVerify {
		var email string
		if err := dbScalar(t, w.inst, `SELECT k.customer_email FROM calls k JOIN cases c ON c.call_id = k.id WHERE c.id = $1`, &email, caseID); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(w.ctx,
			chromedp.SendKeys(chromedp.CSS(`[data-testid="verify-form"] input[name="email"]`), email),
			chromedp.SetValue(chromedp.CSS(`[data-testid="verify-form"] select[name="method"]`), "call_back"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="verify-form"] input[name="note"]`), "Called the number on file; customer confirmed the address"),
			chromedp.Submit(tid("verify-form")),
			chromedp.WaitVisible(tid("recipient-verified")),
		); err != nil {
			t.Fatalf("verify the recipient: %v", err)
		}
	}
	if err := chromedp.Do(w.ctx, chromedp.Submit(tid("request-form")), chromedp.WaitVisible(tid("decision-notice"))); err != nil {
		t.Fatalf("request approval: %v", err)
	}
	if st := w.text("decision-status"); !strings.Contains(st, "awaiting") && !strings.Contains(st, "executing") {
		t.Fatalf("after the request the case is %q", st)
	}
}

// approve approves caseID as persona from the "Awaiting my approval" home.
func (w *walker) approve(t *testing.T, persona string, caseID int64, comment string) {
	t.Helper()
	w.as(t, persona)
	row := `[data-testid="awaiting-` + itoa(caseID) + `"]`
	if err := chromedp.Do(w.ctx, chromedp.Navigate(w.inst.URL+"/"), chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row+` a[data-open]`)), chromedp.WaitVisible(tid("approve-form")),
		chromedp.SendKeys(tid("approve-comment"), comment),
		chromedp.Click(chromedp.CSS(`[data-testid="approve-confirm"] input`)),
		chromedp.Click(tid("approve")),
		chromedp.WaitVisible(tid("decision-notice")),
	); err != nil {
		t.Fatalf("%s approves case %d from Awaiting my approval: %v", persona, caseID, err)
	}
}

// approveAll approves as Fiona, then as Felix when the policy wants two.
// A case the policy approves automatically is left as it is.
func (w *walker) approveAll(t *testing.T, caseID int64, comment string) {
	t.Helper()
	var st string
	if _ = dbScalar(t, w.inst, `SELECT status FROM cases WHERE id = $1`, &st, caseID); st != "awaiting_approval" {
		return
	}
	w.approve(t, "fiona", caseID, comment)
	_ = dbScalar(t, w.inst, `SELECT status FROM cases WHERE id = $1`, &st, caseID)
	if st == "awaiting_approval" {
		w.approve(t, "felix", caseID, comment)
	}
}

// settled waits until no action of the case is queued or running and returns
// the Actions panel's text.
func (w *walker) settled(t *testing.T, caseID int64) string {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		var open int64
		_ = dbScalar(t, w.inst, `SELECT count(*) FROM actions WHERE case_id = $1 AND status IN ('planned', 'queued', 'running')`, &open, caseID)
		if open == 0 {
			break
		}
	}
	w.open(t, "/cases/"+itoa(caseID), "case-actions")
	return w.text("case-actions")
}

// actionID is the id of the case's action on connector/operation.
func (w *walker) actionID(t *testing.T, caseID int64, connector, operation string) int64 {
	t.Helper()
	var id int64
	if err := dbScalar(t, w.inst, `SELECT id FROM actions WHERE case_id = $1 AND connector = $2 AND operation = $3 ORDER BY id DESC LIMIT 1`,
		&id, caseID, connector, operation); err != nil {
		t.Fatalf("case %d has no %s %s action: %v", caseID, connector, operation, err)
	}
	return id
}

// sandboxOf follows the action's "Sandbox requests" link from the case page (as
// Ada) and returns the log's text.
func (w *walker) sandboxOf(t *testing.T, caseID, actionID int64) string {
	t.Helper()
	w.as(t, "ada")
	w.open(t, "/cases/"+itoa(caseID), "case-actions")
	if err := chromedp.Do(w.ctx, chromedp.Click(tid("action-sandbox-"+itoa(actionID))), chromedp.WaitVisible(tid("admin-sandbox"))); err != nil {
		t.Fatalf("action %d of case %d has no link to its sandbox requests: %v", actionID, caseID, err)
	}
	if w.text("no-requests") != "" {
		t.Fatalf("the sandbox log has no request of action %d", actionID)
	}
	// Every request is shown open, so its body is part of the page's text.
	_, _ = chromedp.Run(w.ctx, chromedp.Evaluate[bool](`(document.querySelectorAll("details.sandbox-request").forEach(d => d.open = true), true)`))
	return w.text("admin-sandbox")
}

func (w *walker) documentResend(t *testing.T) {
	id := w.pick(t, "new document resend of an invoice", `SELECT c.id FROM cases c JOIN calls k ON k.id = c.call_id
		WHERE c.kind = 'document_resend' AND c.status = 'new' AND k.fields->>'call_intent' = 'invoice_resend' ORDER BY c.id LIMIT 1`)
	w.as(t, "sam")
	w.open(t, "/cases/"+itoa(id), "decision-panel")
	w.wantText(t, "handoff", "Handoff summary", "to resend invoice INV-")
	plan := w.wantText(t, "planned-actions", "Email: invoice INV-", "Drive:", "customers/cus_", "invoice PDF")
	if !regexp.MustCompile(`to [a-z]•••@`).MatchString(plan) {
		t.Errorf("the plan does not show the masked recipient: %s", plan)
	}
	w.shot(t, "walk-resend-plan", "handoff")
	w.request(t, id)
	w.approveAll(t, id, "Invoice copy to the verified billing email.")
	actions := w.settled(t, id)
	w.wantText(t, "plan-heading", "What the approval ran")
	if st := w.text("case-state"); !strings.Contains(st, "Done") {
		t.Errorf("case state %q, want Done", st)
	}
	for _, want := range []string{"gmail message", "drive file", "in_Demo", ".pdf"} {
		if !strings.Contains(actions, want) {
			t.Errorf("the receipts lack %q:\n%s", want, actions)
		}
	}
	w.wantText(t, "case-links", "Support ticket / record")
	w.shot(t, "walk-resend-receipts", "case-actions")

	log := w.sandboxOf(t, id, w.actionID(t, id, "email", "send_document"))
	for _, want := range []string{"messages/send", "Subject:", "[attachment: invoice-INV-", ".pdf, application/pdf", "Sent for case #" + itoa(id)} {
		if !strings.Contains(log, want) {
			t.Errorf("the email's sandbox log lacks %q:\n%s", want, log)
		}
	}
	w.shot(t, "walk-resend-sandbox-email", "admin-sandbox")
	// The log's own filters: this case, Drive only.
	if err := chromedp.Do(w.ctx, chromedp.Navigate(w.inst.URL+"/admin/sandbox"), chromedp.WaitVisible(tid("sandbox-filter")),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sandbox-filter"] input[name="case"]`), itoa(id)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="sandbox-filter"] select[name="connector"]`), "drive"),
		chromedp.Submit(tid("sandbox-filter"))); err != nil {
		t.Fatalf("filter the sandbox log by case and connector: %v", err)
	}
	// The page before had a request-0 too: wait until the filtered page is the one shown.
	for i := 0; ; i++ {
		loc, err := chromedp.Run(w.ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, "connector=drive") {
			if err := chromedp.Do(w.ctx, chromedp.WaitVisible(tid("request-0"))); err == nil {
				break
			}
		}
		if i == 100 {
			t.Fatalf("the filtered sandbox log did not load (at %q)", loc)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, _ = chromedp.Run(w.ctx, chromedp.Evaluate[bool](`(document.querySelectorAll("details.sandbox-request").forEach(d => d.open = true), true)`))
	drive := w.text("admin-sandbox")
	for _, want := range []string{"upload/drive/v3/files", "cus_Demo", "application/pdf", "Countersign case " + itoa(id)} {
		if !strings.Contains(drive, want) {
			t.Errorf("the Drive sandbox log lacks %q:\n%.3000s", want, drive)
		}
	}
	badges, _ := chromedp.Run(w.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".sandbox-request summary .badge")).map(b => b.innerText).join(" ")`))
	if strings.Trim(strings.ReplaceAll(badges, "drive", ""), " ") != "" {
		t.Errorf("the Drive filter shows other connectors' requests: %s", badges)
	}
}

func (w *walker) refund(t *testing.T) {
	id := w.pick(t, "new small refund of a paid invoice", `SELECT c.id FROM cases c WHERE c.kind = 'refund' AND c.status = 'new'
		AND c.amount_minor < 100000 AND EXISTS (SELECT 1 FROM billing_facts f WHERE f.case_id = c.id AND f.object = 'invoice' AND f.status = 'paid')
		AND NOT EXISTS (SELECT 1 FROM billing_facts f WHERE f.case_id = c.id AND f.refunded) ORDER BY c.id LIMIT 1`)
	w.as(t, "sam")
	w.open(t, "/cases/"+itoa(id), "decision-panel")
	w.wantText(t, "handoff", "a refund of")
	w.wantText(t, "planned-actions", "Stripe: refund", "credit note", "Drive: store the credit note PDF")
	w.request(t, id)
	w.approveAll(t, id, "Charge after cancellation confirmed in Stripe.")
	actions := w.settled(t, id)
	if !regexp.MustCompile(`\bre_\w+`).MatchString(actions) || !regexp.MustCompile(`\bcn_\w+`).MatchString(actions) {
		t.Errorf("the receipts lack the refund (re_) or the credit note (cn_):\n%s", actions)
	}
	if !strings.Contains(actions, "credit-note-") {
		t.Errorf("the email and Drive receipts do not name the credit note PDF:\n%s", actions)
	}
	w.shot(t, "walk-refund-receipts", "case-actions")
	log := w.sandboxOf(t, id, w.actionID(t, id, "email", "send_document"))
	if !strings.Contains(log, "[attachment: credit-note-") {
		t.Errorf("the refund email in the sandbox log has no credit note attached:\n%.3000s", log)
	}
}

func (w *walker) collections(t *testing.T) {
	id := w.pick(t, "new collections case with a promise to pay", `SELECT id FROM cases WHERE kind = 'collections' AND status = 'new'
		AND capture ? 'promise_to_pay_amount' AND capture ? 'promise_to_pay_date' ORDER BY id LIMIT 1`)
	var amount, date string
	_ = dbScalar(t, w.inst, `SELECT capture->'promise_to_pay_amount'->>'value' FROM cases WHERE id = $1`, &amount, id)
	_ = dbScalar(t, w.inst, `SELECT capture->'promise_to_pay_date'->>'value' FROM cases WHERE id = $1`, &date, id)
	w.as(t, "sam")
	w.open(t, "/cases/"+itoa(id), "decision-panel")
	w.wantText(t, "captured", "Promised amount", amount, "Promised by", date, "I can pay")
	if d := w.text("case-deadline"); strings.TrimSpace(d) == "" || strings.Contains(d, "None") {
		t.Errorf("no follow-up deadline on the case: %q", d)
	}
	w.wantText(t, "billing", "invoice in_", "open")
	w.wantText(t, "planned-actions", "Sheets: append collections row", "Email: payment link for invoice INV-", "hosted invoice page")
	w.shot(t, "walk-collections-case", "case")
	w.request(t, id)
	w.approveAll(t, id, "Promise to pay noted; send the payment link.")
	actions := w.settled(t, id)
	for _, want := range []string{"gmail message", "Sheets", "Done"} {
		if !strings.Contains(actions, want) {
			t.Errorf("the receipts lack %q:\n%s", want, actions)
		}
	}
	w.shot(t, "walk-collections-receipts", "case-actions")
	log := w.sandboxOf(t, id, w.actionID(t, id, "email", "send_document"))
	if !regexp.MustCompile(`https?://\S+`).MatchString(log) || !strings.Contains(log, "INV-") {
		t.Errorf("the payment-link email carries no hosted invoice link:\n%.3000s", log)
	}
	w.shot(t, "walk-collections-sandbox-email", "admin-sandbox")
	sheets := w.sandboxOf(t, id, w.actionID(t, id, "sheets", "append_row"))
	if !strings.Contains(sheets, amount) && !strings.Contains(sheets, date) {
		t.Errorf("the Sheets row carries neither the promised amount nor the date:\n%.3000s", sheets)
	}
}

func (w *walker) alert(t *testing.T) {
	id := w.pick(t, "posted VIP payment-blocker alert", `SELECT case_id FROM case_alerts WHERE reason = 'vip_blocker' AND status = 'posted'
		AND case_id IS NOT NULL ORDER BY id LIMIT 1`)
	w.as(t, "ada")
	w.open(t, "/admin/sandbox?connector=slack&case="+itoa(id), "admin-sandbox")
	if w.text("no-requests") != "" {
		t.Fatalf("the sandbox log has no Slack request for case %d", id)
	}
	_, _ = chromedp.Run(w.ctx, chromedp.Evaluate[bool](`(document.querySelectorAll("details.sandbox-request").forEach(d => d.open = true), true)`))
	w.wantText(t, "admin-sandbox", "chat.postMessage", "VIP payment blocker", "Impact:", "Urgency:", "Owner", "/cases/"+itoa(id))
	w.shot(t, "walk-alert-slack", "admin-sandbox")
}

func (w *walker) review(t *testing.T) {
	id := w.pick(t, "case the claim check sent to review", `SELECT id FROM cases WHERE kind = 'review' AND status = 'new'
		AND reasons::text LIKE '%claim check:%' ORDER BY id LIMIT 1`)
	w.as(t, "sam")
	w.open(t, "/cases/"+itoa(id), "billing")
	w.wantText(t, "claim-route", "Sent to review by the claim check")
	if s := w.text("claim-score"); !regexp.MustCompile(`[+-]\d`).MatchString(s) {
		t.Errorf("the score explanation shows no points: %q", s)
	}
	if u := w.text("case-urgency-why"); !strings.Contains(u, "Why") {
		t.Errorf("no urgency reason: %q", u)
	}
	w.shot(t, "walk-review-claim-check", "billing")
}
