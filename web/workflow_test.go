package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
)

// workflow is the console with its job workers running against the sandbox fakes:
// the real webhook → ingest → outbox → job path.
type workflow struct {
	t  *testing.T
	db *database.DB
	sb *sandbox.Sandbox
	ts *httptest.Server
}

func newWorkflow(t *testing.T, extra map[string]string) *workflow {
	t.Helper()
	db := testdb.New(t)
	sb, err := sandbox.Start(config.Connectors{MailFrom: "billing@countersign.test"}, sandbox.Options{All: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	env := map[string]string{
		"COUNTERSIGN_DIALNEXA_SECRETS":  "whsec_current_secret_0123456789," + sampleSecret,
		"COUNTERSIGN_SESSION_KEYS":      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"COUNTERSIGN_JOB_POLL_INTERVAL": "100ms",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Dev)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Config: cfg, DB: db, Sandbox: sb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := srv.StartWorkers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &workflow{t: t, db: db, sb: sb, ts: ts}
}

// call posts a signed variant of a shared sample.
func (w *workflow) call(sample string, replace ...string) {
	w.t.Helper()
	body := []byte(strings.NewReplacer(replace...).Replace(string(readSample(w.t, sample))))
	if resp := post(w.t, w.ts, body, map[string]string{"X-DialNexa-Signature": dialnexa.Sign(body, sampleSecret)}); resp.StatusCode != 200 {
		w.t.Fatalf("webhook: %d", resp.StatusCode)
	}
}

// await polls q (one boolean) until it is true; the jobs run asynchronously.
func (w *workflow) await(what, q string, args ...any) {
	w.t.Helper()
	for range 300 {
		var ok bool
		if err := w.db.Gorm.Raw(q, args...).Scan(&ok).Error; err != nil {
			w.t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s: not reached after 15 s", what)
}

func TestClaimCheckRoutesThroughTheJobPath(t *testing.T) {
	w := newWorkflow(t, nil)
	// A 50.00 USD invoice on file; the caller claims 500 USD on it.
	w.sb.EnsureClaim(sandbox.Claim{InvoiceNumber: "INV-50050", Email: "jordan.lee@example.com", AmountMinor: 5000, Currency: "USD"})
	w.call("refund-request.json", "call_rf7k2m9q4xbt", "call_wf_fifty", "INV-20931", "INV-50050", `"amount": 249.0`, `"amount": 500.0`)
	w.await("claim checked", `SELECT EXISTS (SELECT 1 FROM claim_checks c JOIN cases k ON k.id = c.case_id
		JOIN calls l ON l.id = k.call_id WHERE l.dialnexa_id = 'call_wf_fifty')`)
	var kind, reasons string
	w.db.Gorm.Raw(`SELECT k.kind, k.reasons::text FROM cases k JOIN calls l ON l.id = k.call_id
		WHERE l.dialnexa_id = 'call_wf_fifty'`).Row().Scan(&kind, &reasons)
	if kind != "review" || !strings.Contains(reasons, "amount 500.00 USD claimed, the ledger has 50.00 USD") {
		t.Errorf("case %s, reasons %s; want review with the amount reason", kind, reasons)
	}
}
