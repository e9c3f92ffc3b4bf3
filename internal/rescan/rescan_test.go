package rescan_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/rescan"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/vault"
)

// Rows stored before the current rules hold a card, an IBAN and a VAT id in
// clear; a rescan masks them everywhere, keeps the VAT id and the IBAN in the
// vault, marks the case for re-indexing, audits each batch and, run again,
// resumes (reads nothing) unless told to restart.
func TestRescanRewritesOldRowsAndResumes(t *testing.T) {
	db := testdb.New(t)
	g := db.Gorm
	ctx := context.Background()
	const card, iban, vat = "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "DE978401563"
	var callID, caseID, userID int64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.Raw(`INSERT INTO calls (dialnexa_id, summary, from_number, fields) VALUES ('call_old1', ?, ?, ?::jsonb) RETURNING id`,
		"Caller read card "+card+" and asked for a refund", card, `{"vat_id":"`+vat+`","n":4111111111111111}`).Scan(&callID).Error)
	for i := range 3 { // more rows than a batch
		must(g.Exec(`INSERT INTO calls (dialnexa_id, summary) VALUES (?, 'nothing to see')`, "call_clean"+string(rune('a'+i))).Error)
	}
	must(g.Exec(`INSERT INTO webhook_deliveries (source, raw_sha256, outcome, body) VALUES ('dialnexa', '\x00', 'stored', ?::jsonb)`,
		`{"call":{"transcript":"refund to `+iban+`"}}`).Error)
	must(g.Raw(`INSERT INTO cases (call_id, kind, customer_label) VALUES (?, 'refund', ?) RETURNING id`, callID, "Jane "+vat).Scan(&caseID).Error)
	must(g.Raw(`INSERT INTO users (issuer, subject, email, name) VALUES ('https://idp.test', 's1', 'a@example.com', 'A') RETURNING id`).Scan(&userID).Error)
	must(g.Exec(`INSERT INTO notes (case_id, author_id, body) VALUES (?, ?, ?)`, caseID, userID, "called back, card "+card).Error)
	must(g.Exec(`INSERT INTO actions (case_id, position, connector, operation, params, description, idempotency_key)
		VALUES (?, 1, 'slack', 'post_message', ?::jsonb, ?, 'k1')`, caseID, `{"text":"IBAN `+iban+`"}`, "Post "+iban).Error)
	must(g.Exec(`INSERT INTO saved_views (user_id, name, query) VALUES (?, ?, '/queues/refund')`, userID, "card "+card).Error)
	must(g.Exec(`DELETE FROM case_search_stale`).Error)

	keys, _ := vault.ParseKeys(vault.NewKey())
	var out bytes.Buffer
	res, err := rescan.Run(ctx, g, rescan.Options{Batch: 2, Vault: keys, Actor: "test", Out: &out})
	must(err)
	if res.Changed != 6 || res.Counts["card"] != 5 || res.Counts["iban"] != 3 || res.Counts["vat"] != 2 {
		t.Errorf("result %+v, want 6 rows changed (a call, a delivery, a case, a note, an action, a saved view)", res)
	}
	var all string
	must(g.Raw(`SELECT concat_ws(' ', (SELECT string_agg(concat_ws(' ', summary, from_number, fields::text), ' ') FROM calls),
		(SELECT string_agg(body::text, ' ') FROM webhook_deliveries), (SELECT string_agg(customer_label, ' ') FROM cases),
		(SELECT string_agg(body, ' ') FROM notes), (SELECT string_agg(params::text || description, ' ') FROM actions),
		(SELECT string_agg(name, ' ') FROM saved_views))`).Scan(&all).Error)
	for _, leak := range []string{card, iban, vat, "4111111111111111", "978401563"} {
		if strings.Contains(all, leak) {
			t.Errorf("still stored: %q in %s", leak, all)
		}
	}
	got, err := keys.Open(ctx, g, callID)
	if err != nil || len(got) != 1 || got[0].Value != vat {
		t.Errorf("vault of the call: %+v %v", got, err)
	}
	var stale, audits int64
	g.Raw(`SELECT count(*) FROM case_search_stale WHERE case_id = ?`, caseID).Scan(&stale)
	g.Raw(`SELECT count(*) FROM audit_log WHERE action = 'redact.rescanned'`).Scan(&audits)
	if stale == 0 || audits < 6 {
		t.Errorf("stale case rows %d, rescan audit entries %d", stale, audits)
	}
	if !strings.Contains(out.String(), "calls") {
		t.Errorf("no progress on %q", out.String())
	}
	again, err := rescan.Run(ctx, g, rescan.Options{Batch: 2, Actor: "test"})
	if err != nil || again.Rows != 0 {
		t.Errorf("second run read %d rows (%v), want 0: it resumes after the last batch", again.Rows, err)
	}
	re, err := rescan.Run(ctx, g, rescan.Options{Batch: 2, Actor: "test", Restart: true})
	if err != nil || re.Rows == 0 || re.Changed != 0 {
		t.Errorf("restart: %+v %v, want every row read and none changed", re, err)
	}
}
