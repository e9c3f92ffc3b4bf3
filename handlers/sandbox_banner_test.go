package handlers_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

// No silent sandbox: without COUNTERSIGN_SANDBOX a connector without credentials
// is off and no page claims a sandbox; with it, every page carries the banner.
func TestSandboxIsExplicitAndShown(t *testing.T) {
	db := testdb.New(t)
	for _, tt := range []struct {
		sandbox    []string
		banner     bool
		stripeMode string
	}{{nil, false, "off"}, {[]string{"stripe"}, true, "sandbox"}} {
		cfg := authtest.Config(t)
		cfg.Sandbox = tt.sandbox
		srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		admin := authtest.Login(t, db, cfg, auth.Admin)
		for _, path := range []string{"/dashboard", "/admin/connectors"} {
			req := httptest.NewRequest("GET", path, nil)
			req.AddCookie(admin)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", path, rec.Code)
			}
			if got := strings.Contains(body, `data-testid="sandbox-banner"`); got != tt.banner {
				t.Errorf("COUNTERSIGN_SANDBOX=%v: banner on %s = %v, want %v", tt.sandbox, path, got, tt.banner)
			}
			if path == "/admin/connectors" && !strings.Contains(body, `data-testid="mode-stripe">`+tt.stripeMode+`<`) {
				t.Errorf("COUNTERSIGN_SANDBOX=%v: stripe not shown as %s", tt.sandbox, tt.stripeMode)
			}
			if path == "/admin/connectors" && !strings.Contains(body, `data-testid="mode-slack">`+"off"+`<`) {
				t.Errorf("COUNTERSIGN_SANDBOX=%v: slack (not named) not shown as off", tt.sandbox)
			}
		}
	}
}
