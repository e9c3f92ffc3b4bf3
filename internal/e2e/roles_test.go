package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// dbExec runs one statement on the instance's database (test setup only).
func dbExec(t *testing.T, inst *instance, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, inst.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// homeShot saves the viewport (not the whole page) at 1280x720: what a role sees
// first thing on a laptop.
func homeShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Logf("viewport %s: %v", name, err)
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join(repoRoot(), "artifacts", "screenshots")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
}

// TestApproverDay: Fiona lands on "Awaiting my approval", opens the large refund
// Felix already approved (1 of 2), approves it with a comment; her sign-in is old,
// so she signs in again, and the approval completes on the way back; the receipts
// appear on the case.
func TestApproverDay(t *testing.T) {
	inst := start(t)
	var caseID int64
	if err := dbScalar(t, inst, `SELECT c.id FROM cases c WHERE c.status = 'awaiting_approval' AND c.kind = 'refund'
		AND (SELECT count(*) FROM approvals a WHERE a.case_id = c.id AND a.voided_at IS NULL) = 1 ORDER BY c.id LIMIT 1`, &caseID); err != nil {
		t.Fatalf("the demo has no refund with 1 of 2 approvals: %v", err)
	}
	// The case entered approval under a stricter policy: step-up above 1,000.00 USD.
	dbExec(t, inst, `INSERT INTO policy_versions (created_by, rules) SELECT 'e2e', jsonb_set(rules, '{currencies,USD,step_up_above}', '100000') FROM policy_versions WHERE id = 1`)
	dbExec(t, inst, `UPDATE cases SET policy_version = (SELECT max(id) FROM policy_versions) WHERE id = $1`, caseID)
	ctx := browser(t)
	login(t, ctx, inst.URL, "fiona")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(tid("awaiting-title"))); err != nil {
		t.Fatalf("Fiona did not land on Awaiting my approval: %v", err)
	}
	homeShot(t, ctx, "home-finance-approver")
	row := text(t, ctx, "awaiting-"+itoa(caseID))
	if !strings.Contains(row, "1 of 2 approvals") || !strings.Contains(row, "Sam Support") {
		t.Errorf("awaiting row %q, want progress 1 of 2 and the requester", row)
	}
	if c := text(t, ctx, "count-awaiting"); strings.TrimSpace(c) == "" {
		t.Error("no count beside Awaiting my approval")
	}
	// Her sign-in is now older than the step-up window.
	dbExec(t, inst, `UPDATE sessions SET auth_time = now() - interval '1 hour' WHERE user_id = (SELECT id FROM users WHERE email = 'fiona@example.com') AND revoked_at IS NULL`)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="awaiting-`+itoa(caseID)+`"] a[data-open]`)),
		chromedp.WaitVisible(tid("step-up-notice")),
		chromedp.SendKeys(tid("approve-comment"), "Invoice and cancellation date match the call."),
		chromedp.Click(chromedp.CSS(`[data-testid="approve-confirm"] input`)),
		chromedp.Click(tid("approve")),
		chromedp.WaitVisible(tid("persona-fiona")),
	); err != nil {
		t.Fatalf("approve with a stale sign-in should ask for a new one: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(tid("persona-fiona")),
		chromedp.WaitVisible(tid("decision-notice")),
	); err != nil {
		t.Fatalf("back from the step-up sign-in: %v", err)
	}
	if n := text(t, ctx, "decision-notice"); !strings.Contains(n, "signed in again and your approval is recorded") {
		t.Errorf("notice after the step-up %q", n)
	}
	var actions string
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		actions, _ = chromedp.Run(ctx, chromedp.Text(tid("case-actions")))
		if strings.Contains(actions, "re_") && !strings.Contains(strings.ToLower(actions), "queued") && !strings.Contains(strings.ToLower(actions), "running") {
			break
		}
	}
	screenshot(t, ctx, "approver-receipts")
	if !strings.Contains(actions, "re_") {
		t.Fatalf("no refund receipt after the approval: %q", actions)
	}
	var comment string
	if err := dbScalar(t, inst, `SELECT comment FROM approvals WHERE case_id = $1 AND approver_label LIKE '%fiona%'`, &comment, caseID); err != nil || !strings.Contains(comment, "Invoice and cancellation") {
		t.Errorf("Fiona's approval comment %q (%v)", comment, err)
	}
}

// TestFailedActionsThreeWays: the demo's three refunds that Stripe refused are
// retried, cancelled with a reason and marked resolved outside Countersign.
func TestFailedActionsThreeWays(t *testing.T) {
	inst := start(t)
	ctx := browser(t)
	login(t, ctx, inst.URL, "felix")
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/dashboard"), chromedp.WaitVisible(tid("dashboard"))); err != nil {
		t.Fatal(err)
	}
	if c := text(t, ctx, "count-attention"); strings.TrimSpace(c) != "3" {
		t.Errorf("Needs attention count %q, want 3", c)
	}
	ways := []struct {
		name   string
		form   string
		fill   func(id string) []chromedp.Action[chromedp.Void]
		notice string
	}{
		{"retry", "retry", func(id string) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Click(tid("retry-" + id))}
		}, "Retry queued"},
		{"cancel", "cancel", func(id string) []chromedp.Action[chromedp.Void] {
			sel := `[data-testid="cancel-` + id + `"]`
			return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(sel + ` summary`)),
				chromedp.SendKeys(chromedp.CSS(sel+` textarea`), "Customer got the money back through a bank chargeback."),
				chromedp.Submit(chromedp.CSS(sel + ` form`))}
		}, "Action cancelled"},
		{"resolve", "resolve", func(id string) []chromedp.Action[chromedp.Void] {
			sel := `[data-testid="resolve-` + id + `"]`
			return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(sel + ` summary`)),
				chromedp.SendKeys(chromedp.CSS(sel+` textarea`), "Refunded by hand in the Stripe dashboard."),
				chromedp.SendKeys(chromedp.CSS(sel+` input[name="evidence"]`), "re_manual_0042"),
				chromedp.Submit(chromedp.CSS(sel + ` form`))}
		}, "resolved outside Countersign"},
	}
	for _, w := range ways {
		var caseID, actID int64
		if err := dbScalar(t, inst, `SELECT a.case_id FROM actions a JOIN cases c ON c.id = a.case_id
			WHERE c.status = 'needs_attention' AND a.status IN ('needs_attention', 'failed') ORDER BY a.id LIMIT 1`, &caseID); err != nil {
			t.Fatalf("%s: no failed action left: %v", w.name, err)
		}
		_ = dbScalar(t, inst, `SELECT id FROM actions WHERE case_id = $1 AND status IN ('needs_attention', 'failed') LIMIT 1`, &actID, caseID)
		if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/cases/"+itoa(caseID)), chromedp.WaitVisible(tid("case-state"))); err != nil {
			t.Fatal(err)
		}
		if st := text(t, ctx, "case-state"); !strings.Contains(st, "Needs attention") {
			t.Errorf("%s: banner %q, want Needs attention", w.name, st)
		}
		// Actions queued behind the failed one wait for a person, not for a worker:
		// the panel says so and does not re-read itself every two seconds (it once
		// did, and replaced the form Felix was typing in).
		var behind int64
		_ = dbScalar(t, inst, `SELECT count(*) FROM actions WHERE case_id = $1 AND status = 'queued'
			AND position > (SELECT position FROM actions WHERE id = $2)`, &behind, caseID, actID)
		if behind > 0 {
			refreshing, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="case-actions"]').hasAttribute("data-refresh")`))
			if err != nil {
				t.Fatal(err)
			}
			if refreshing {
				t.Errorf("%s: %d actions wait behind the failed one and the panel still refreshes itself", w.name, behind)
			}
			if txt := text(t, ctx, "case-actions"); !strings.Contains(txt, "Waits for #") {
				t.Errorf("%s: the actions behind the failed one do not say what they wait for: %q", w.name, txt)
			}
		}
		if err := chromedp.Do(ctx, append(w.fill(itoa(actID)), chromedp.WaitVisible(tid("decision-notice")))...); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		screenshot(t, ctx, "failed-"+w.name)
		if n := text(t, ctx, "decision-notice"); !strings.Contains(n, w.notice) {
			t.Errorf("%s: notice %q", w.name, n)
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.Contains(loc, "/cases/"+itoa(caseID)) {
			t.Errorf("%s: landed on %s, want the case", w.name, loc)
		}
		var st string
		_ = dbScalar(t, inst, `SELECT status FROM actions WHERE id = $1`, &st, actID)
		want := map[string][]string{"retry": {"queued", "running", "done"}, "cancel": {"cancelled"}, "resolve": {"done"}}[w.name]
		if !contains(want, st) {
			t.Errorf("%s: action is %s, want one of %v", w.name, st, want)
		}
	}
}

// TestFailedActionEdit: Felix opens a case whose refund Stripe refused, chooses
// "Edit and ask again", halves the amount with a reason, and the case awaits
// approval again: the banner and the timeline say he edited it after the failure,
// the new refund is planned with a new idempotency key, and Fiona finds the case
// on her "Awaiting my approval" home.
func TestFailedActionEdit(t *testing.T) {
	inst := start(t)
	var caseID, oldAct int64
	if err := dbScalar(t, inst, `SELECT a.case_id FROM actions a JOIN cases c ON c.id = a.case_id
		WHERE c.status = 'needs_attention' AND a.status IN ('needs_attention', 'failed') AND a.connector = 'stripe' ORDER BY a.id LIMIT 1`, &caseID); err != nil {
		t.Fatalf("the demo has no failed refund: %v", err)
	}
	_ = dbScalar(t, inst, `SELECT id FROM actions WHERE case_id = $1 AND connector = 'stripe' AND status IN ('needs_attention', 'failed')`, &oldAct, caseID)
	ctx := browser(t)
	login(t, ctx, inst.URL, "felix")
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/cases/"+itoa(caseID)), chromedp.WaitVisible(tid("case-state")),
		chromedp.Click(tid("replan-link")), chromedp.WaitVisible(tid("replan-form"))); err != nil {
		t.Fatalf("Edit and ask again from the failed case: %v", err)
	}
	amount, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const i = document.querySelector('[data-testid="plan-amount"]');
		const d = (i.value.split('.')[1] || '').length; i.value = Math.max(parseFloat(i.value) / 2, 1).toFixed(d); return i.value })()`))
	if err != nil || amount == "" {
		t.Fatalf("halve the amount: %q %v", amount, err)
	}
	screenshot(t, ctx, "failed-edit-form")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(tid("replan-reason"), "Customer agreed on a call back to half, as a goodwill credit covers the rest."),
		chromedp.Click(chromedp.CSS(`[data-testid="replan-checked"] input`)),
		chromedp.Click(tid("replan-save")),
		chromedp.WaitVisible(tid("decision-notice")),
	); err != nil {
		t.Fatalf("save the edit: %v", err)
	}
	screenshot(t, ctx, "failed-edited")
	if st := text(t, ctx, "case-state"); !strings.Contains(st, "Plan edited by Felix Finance after a failure; awaiting approval again") {
		t.Errorf("banner %q", st)
	}
	if tl := text(t, ctx, "timeline"); !strings.Contains(tl, "edited the plan after a failure and asked for approval again") {
		t.Errorf("timeline has no readable entry for the edit: %q", tl)
	}
	var st, oldSt string
	var planned int64
	_ = dbScalar(t, inst, `SELECT status FROM cases WHERE id = $1`, &st, caseID)
	_ = dbScalar(t, inst, `SELECT status FROM actions WHERE id = $1`, &oldSt, oldAct)
	_ = dbScalar(t, inst, `SELECT count(*) FROM actions WHERE case_id = $1 AND connector = 'stripe' AND operation = 'refund' AND status = 'planned' AND id > $2`, &planned, caseID, oldAct)
	if st != "awaiting_approval" || oldSt != "cancelled" || planned != 1 {
		t.Errorf("case %s, old refund %s, new planned refunds %d: want awaiting_approval, cancelled, 1", st, oldSt, planned)
	}
	logout(t, ctx)
	login(t, ctx, inst.URL, "fiona")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(tid("awaiting-"+itoa(caseID)))); err != nil {
		t.Fatalf("the edited case is not on Fiona's Awaiting my approval: %v", err)
	}
	if row := text(t, ctx, "awaiting-"+itoa(caseID)); !strings.Contains(row, "Felix Finance") {
		t.Errorf("awaiting row %q, want Felix as the requester", row)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAuditorDay: Audrey lands on the audit log, verifies the chain with the
// button, downloads a case's evidence bundle from the case page and checks it
// offline with countersign audit verify --bundle.
func TestAuditorDay(t *testing.T) {
	inst := start(t)
	var caseID int64
	if err := dbScalar(t, inst, `SELECT id FROM cases WHERE status = 'done' ORDER BY id LIMIT 1`, &caseID); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	login(t, ctx, inst.URL, "audrey")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(tid("audit-log"))); err != nil {
		t.Fatalf("Audrey did not land on the audit log: %v", err)
	}
	homeShot(t, ctx, "home-auditor")
	if err := chromedp.Do(ctx, chromedp.Click(tid("verify-chain")), chromedp.WaitVisible(tid("flash"))); err != nil {
		t.Fatal(err)
	}
	if f := text(t, ctx, "flash"); !strings.Contains(f, "audit chain OK") {
		t.Errorf("verify said %q", f)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/cases/"+itoa(caseID)), chromedp.WaitVisible(tid("case-bundle"))); err != nil {
		t.Fatal(err)
	}
	// Download through the page, with Audrey's session, as the link does.
	bundle, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector('[data-testid="case-bundle"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// Staff appear by their sign-in email (the actor); a customer's address only masked.
	staff := map[string]bool{"sam@example.com": true, "fiona@example.com": true, "felix@example.com": true,
		"ada@example.com": true, "audrey@example.com": true, "morgan@example.com": true}
	for _, m := range regexp.MustCompile(`[A-Za-z0-9._%+•-]+@[A-Za-z0-9.-]+`).FindAllString(bundle, -1) {
		if !staff[m] && !strings.Contains(m, "•") {
			t.Errorf("the bundle carries a customer's address %q", m)
		}
	}
	path := filepath.Join(t.TempDir(), "case-"+itoa(caseID)+"-evidence.jsonl")
	if err := os.WriteFile(path, []byte(bundle), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary(t), "audit", "verify", "--bundle", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit bundle OK") {
		t.Fatalf("countersign audit verify --bundle: %v\n%s", err, out)
	}
	t.Logf("countersign audit verify --bundle: %s", strings.TrimSpace(string(out)))
}

// TestAdminDay: Ada finds the policy in the sidebar, previews a sample case under a
// changed limit and stores the change.
func TestAdminDay(t *testing.T) {
	inst := start(t)
	ctx := browser(t)
	login(t, ctx, inst.URL, "ada")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(tid("nav-admin-policy"))); err != nil {
		t.Fatalf("no policy in Ada's sidebar: %v", err)
	}
	homeShot(t, ctx, "home-admin")
	if err := chromedp.Do(ctx,
		chromedp.Click(tid("nav-admin-policy")),
		chromedp.WaitVisible(tid("policy-form")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="t0_cur"][value="EUR"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name="t0_one"]`), "800.00"),
		chromedp.SetValue(chromedp.CSS(`input[name="s_amount"]`), "900.00"),
		chromedp.SetValue(chromedp.CSS(`input[name="s_cur"]`), "EUR"),
		chromedp.Click(tid("policy-preview-button")),
		chromedp.WaitVisible(tid("preview-summary")),
	); err != nil {
		t.Fatal(err)
	}
	if p := text(t, ctx, "preview-summary"); !strings.Contains(p, "Two distinct approvers") {
		t.Errorf("preview of 900.00 EUR with one approver below 800.00 (row 1 is EUR): %q", p)
	}
	screenshot(t, ctx, "admin-policy-preview")
	if err := chromedp.Do(ctx, chromedp.Click(tid("policy-save")), chromedp.WaitVisible(tid("flash"))); err != nil {
		t.Fatal(err)
	}
	if v := text(t, ctx, "policy-version"); !strings.Contains(v, "version 2") {
		t.Errorf("after saving: %q", v)
	}
}

// TestSupportLeadHome: Sam's home at 1280x720; assigning with a keeps his place;
// on a case page j goes to the next case of the queue and n to the note.
func TestSupportLeadHome(t *testing.T) {
	inst := start(t)
	ctx := browser(t)
	login(t, ctx, inst.URL, "sam")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(tid("queue-title"))); err != nil {
		t.Fatal(err)
	}
	homeShot(t, ctx, "home-support-lead")
	// Dashboard text at 1280x720: no chart label under 11 px.
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/dashboard"), chromedp.WaitVisible(tid("dashboard"))); err != nil {
		t.Fatal(err)
	}
	smallest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Math.min(...Array.from(document.querySelectorAll(".chart-svg text")).map(
		t => t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize)))`))
	if err != nil || smallest < 11 {
		which, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".chart-svg text")).map(
			t => t.getAttribute("class") + ":" + (t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize)).toFixed(1)).filter(x => parseFloat(x.split(":")[1]) < 11).slice(0, 8).join(" ")`))
		t.Errorf("smallest chart text at 1280x720 is %.1f px (%v), want >= 11: %s", smallest, err, which)
	}
	homeShot(t, ctx, "dashboard-1280")
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/queues/open"), chromedp.WaitVisible(tid("queue-title"))); err != nil {
		t.Fatal(err)
	}
	// j j a: the second row is assigned and, after the reload, still the focused one.
	second, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("tr[data-row]")[1].getAttribute("data-id")`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("a"),
		chromedp.WaitVisible(tid("flash")),
		chromedp.Sleep(300*time.Millisecond),
	); err != nil {
		t.Fatal(err)
	}
	focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("tr[data-row].focused") || {getAttribute: () => ""}).getAttribute("data-id")`))
	if focused != second {
		t.Errorf("after a, the focused row is %q, want the assigned row %q", focused, second)
	}
	// o opens it; j on the case page goes to the next case of the queue.
	third, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("tr[data-row]")[2].getAttribute("data-href")`))
	if err := chromedp.Do(ctx, chromedp.KeyEvent("o"), chromedp.WaitVisible(tid("case-title")), chromedp.KeyEvent("j"),
		chromedp.Sleep(500*time.Millisecond), chromedp.WaitVisible(tid("case-title"))); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, third) {
		t.Errorf("j on a case page went to %s, want %s", loc, third)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("n")); err != nil {
		t.Fatal(err)
	}
	if active, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-testid") || ""`)); active != "note-text" {
		t.Errorf("n on a case page focused %q, want the note", active)
	}
}
