package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/models"
)

// TestWebhookDecidedCallNotRewritten: signed redeliveries through the real webhook
// path. Before the case is decided, a later event enriches the call as before. After
// it left 'new', a redelivery spelling the status differently ("Completed", "hangup")
// is a duplicate, and an event that changes what the case rests on is kept as a
// version: the call keeps its decided values, the case is flagged and it is audited.
func TestWebhookDecidedCallNotRewritten(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServer(t, db)
	base := readSample(t, "refund-request.json")
	deliver := func(what string, b []byte) string {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/webhooks/dialnexa", bytes.NewReader(b))
		req.Header.Set("X-DialNexa-Signature", dialnexa.Sign(b, sampleSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, msg)
		}
		return string(msg)
	}
	edit := func(b []byte, pairs ...string) []byte {
		for i := 0; i < len(pairs); i += 2 {
			if !bytes.Contains(b, []byte(pairs[i])) {
				t.Fatalf("sample has no %q", pairs[i])
			}
			b = bytes.Replace(b, []byte(pairs[i]), []byte(pairs[i+1]), 1)
		}
		return b
	}
	type callRow struct {
		Amount, Invoice, Status string
	}
	call := func(id string) callRow {
		var c callRow
		if err := db.Gorm.Raw(`SELECT fields->>'amount' AS amount, fields->>'invoice_number' AS invoice, status
			FROM calls WHERE dialnexa_id = ?`, id).Scan(&c).Error; err != nil {
			t.Fatal(err)
		}
		return c
	}
	transfer := func(b []byte, amount, invoice string) []byte {
		return edit(b, `"event_type": "call_ended"`, `"event_type": "transfer_completed"`,
			`"amount": 249.0`, `"amount": `+amount, `"INV-20931",`, `"`+invoice+`",`)
	}

	// Before the decision: enrichment works as before.
	early := bytes.ReplaceAll(base, []byte("call_rf7k2m9q4xbt"), []byte("call_early"))
	deliver("early first", early)
	deliver("early enrichment", transfer(early, "199.0", "INV-1"))
	if c := call("call_early"); c.Amount != "199.0" || c.Invoice != "INV-1" {
		t.Errorf("undecided call after enrichment = %+v, want amount 199.0 and INV-1", c)
	}

	// Decided.
	if msg := deliver("first", base); !strings.Contains(msg, "stored") {
		t.Fatalf("first delivery: %s", msg)
	}
	var caseID int64
	db.Gorm.Raw(`SELECT s.id FROM cases s JOIN calls c ON c.id = s.call_id WHERE c.dialnexa_id = 'call_rf7k2m9q4xbt'`).Scan(&caseID)
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		return approval.MoveCaseTx(context.Background(), tx, caseID, models.StatusTriaged, audit.Entry{Actor: "test", Outcome: "ok"})
	}); err != nil {
		t.Fatalf("triage case %d: %v", caseID, err)
	}
	for _, status := range []string{`"Completed"`, `" completed "`, `"hangup"`} {
		b := edit(base, `"status": "completed"`, `"status": `+status, `"amount": 249.0`, `"amount": 9999.0`)
		if msg := deliver("status "+status, b); !strings.Contains(msg, "duplicate") {
			t.Errorf("redelivery with status %s: %s, want duplicate", status, msg)
		}
	}
	if msg := deliver("changed transfer", transfer(base, "9999.0", "INV-EVIL")); !strings.Contains(msg, "versioned") {
		t.Errorf("changed delivery after the decision: %s, want versioned", msg)
	}
	if c := call("call_rf7k2m9q4xbt"); c.Amount != "249.0" || c.Invoice != "INV-20931" || c.Status != "completed" {
		t.Errorf("decided call = %+v, want its decided values (249.0, INV-20931, completed)", c)
	}
	var versions, flagged, audited int64
	var changed string
	db.Gorm.Raw(`SELECT count(*), coalesce(string_agg(changed::text, ''), '') FROM call_versions`).Row().Scan(&versions, &changed)
	db.Gorm.Raw(`SELECT count(*) FROM cases WHERE call_changed_at IS NOT NULL`).Scan(&flagged)
	db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action IN ('call.changed_after_decision', 'case.call_changed_after_decision')`).Scan(&audited)
	if versions != 1 || !strings.Contains(changed, "INV-EVIL") || !strings.Contains(changed, "9999") {
		t.Errorf("call_versions: %d rows, changed %s; want one naming the new invoice and amount", versions, changed)
	}
	if flagged != 1 || audited != 2 {
		t.Errorf("flagged cases %d, audit entries %d; want 1 and 2 (the call and its case)", flagged, audited)
	}
}
