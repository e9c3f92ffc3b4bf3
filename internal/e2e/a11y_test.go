package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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
	pages := []string{"/queues/open", "/queues/refund?sort=amount", "/cases/" + itoa(caseID), "/dashboard",
		"/approvals", "/queues/open?status=needs_attention", "@ada", "/audit", "/admin/policy", "/admin/users", "/admin/sandbox"}
	for _, path := range pages {
		if who, ok := strings.CutPrefix(path, "@"); ok {
			logout(t, ctx)
			login(t, ctx, inst.URL, who)
			continue
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
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
	}
}

func firstTarget(v axeViolation) any {
	if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 {
		return ""
	}
	return v.Nodes[0].Target[0]
}
