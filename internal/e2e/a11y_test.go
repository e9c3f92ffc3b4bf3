package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axeSource is axe-core, installed from the npm registry by scripts/test.sh.
func axeSource(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(), ".cache", "axe", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `make test`, which installs it with npm", err)
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// TestAccessibility runs axe-core on the main pages and fails on serious or critical
// violations.
func TestAccessibility(t *testing.T) {
	inst := start(t)
	src := axeSource(t)
	ctx := browser(t)
	login(t, ctx, inst.URL, "morgan")
	var caseID int64
	if err := dbScalar(t, inst, `SELECT id FROM cases WHERE kind = 'refund' ORDER BY id LIMIT 1`, &caseID); err != nil {
		t.Fatal(err)
	}
	var failedID int64
	if err := dbScalar(t, inst, `SELECT id FROM cases WHERE status = 'needs_attention' ORDER BY id LIMIT 1`, &failedID); err != nil {
		t.Fatal(err)
	}
	// "!mention" types "@mo" into the case page's note field and audits the page
	// with the suggestion list open, then picks the suggestion with the keyboard.
	// "!disable" presses a user's Disable button: the confirmation page.
	pages := []string{"/queues/open", "/queues/refund?sort=amount", "/queues/open?q=refund&urgency=3&vip=1",
		"/cases/" + itoa(caseID), "!mention", "/dashboard",
		"/approvals", "/queues/open?status=needs_attention", "/cases/" + itoa(failedID) + "/replan",
		"@ada", "/audit", "/admin/policy", "/admin/users", "!disable", "/admin/sandbox"}
	for _, path := range pages {
		if who, ok := strings.CutPrefix(path, "@"); ok {
			logout(t, ctx)
			login(t, ctx, inst.URL, who)
			continue
		}
		if path == "!mention" {
			if err := chromedp.Do(ctx, chromedp.SendKeys(tid("note-text"), "Please check @mo"),
				chromedp.WaitVisible(chromedp.CSS(`#note-body-mentions [role="option"]`))); err != nil {
				t.Fatalf("mention suggestions: %v", err)
			}
		} else if path == "!disable" {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-testid^="disable-"]`)),
				chromedp.WaitVisible(tid("disable-user-confirm"))); err != nil {
				t.Fatalf("disable confirmation: %v", err)
			}
		} else if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		screenshot(t, ctx, "page"+strings.NewReplacer("/", "-", "?", "-", "=", "-", "&", "-").Replace(path))
		// The console's CSP forbids inline script, so axe is injected through the
		// DevTools protocol, which CSP does not govern.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src+"; true")); err != nil {
			t.Fatalf("inject axe on %s: %v", path, err)
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", path, err)
		}
		var vs []axeViolation
		if err := json.Unmarshal([]byte(raw), &vs); err != nil {
			t.Fatalf("axe result on %s: %v", path, err)
		}
		var bad []string
		for _, v := range vs {
			line := fmt.Sprintf("%s [%s] %s (%d nodes, first %v)", v.ID, v.Impact, v.Help, len(v.Nodes), firstTarget(v))
			if v.Impact == "serious" || v.Impact == "critical" {
				bad = append(bad, line)
			} else {
				t.Logf("%s: minor: %s", path, line)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s: accessibility violations:\n  %s", path, strings.Join(bad, "\n  "))
		}
		if path == "!mention" {
			if err := chromedp.Do(ctx, chromedp.SendKeys(tid("note-text"), kb.ArrowDown), rawEnter); err != nil {
				t.Fatalf("pick mention: %v", err)
			}
			value, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("note-body").value`))
			if err != nil {
				t.Fatalf("pick mention: %v", err)
			}
			if value != "Please check @morgan " {
				t.Errorf("after Enter on the suggestion the note reads %q, want %q", value, "Please check @morgan ")
			}
		}
	}
}

// rawEnter presses Enter with no char event, as a browser does when the page
// handles the keydown.
var rawEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}); err != nil {
			return err
		}
	}
	return nil
})

func firstTarget(v axeViolation) any {
	if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 {
		return ""
	}
	return v.Nodes[0].Target[0]
}
