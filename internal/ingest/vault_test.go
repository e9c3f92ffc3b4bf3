package ingest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
)

// A billing correction call with a new VAT id, an IBAN, a card and a passport
// photo: the stored rows carry kinds only, the vault keeps the VAT id and the IBAN
// (never the card) once however often the delivery comes, and the call and its
// cases are flagged for restricted handling with the kinds and counts.
func TestIngestVaultsRestrictedValuesAndFlags(t *testing.T) {
	svc, db := newService(t)
	keys, err := vault.ParseKeys(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc.Vault = keys
	body, _ := json.Marshal(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
		"id": "call_vault1", "status": "completed", "from_number": "14155550142",
		"transcript": []any{
			map[string]any{"role": "user", "text": "Please correct the invoice, our new VAT number is DE 978 401 563."},
			map[string]any{"role": "user", "text": "Refunds go to IBAN de89 3704 0044 0532 0130 00, card 4242 4242 4242 4242."},
			map[string]any{"role": "user", "text": "I also emailed a photo of my passport."},
		},
		"summary":            "Caller wants the VAT number on invoice INV-20931 corrected.",
		"post_call_analysis": map[string]any{"call_intent": "billing_correction", "invoice_number": "INV-20931"},
	}}})
	ctx := context.Background()
	for range 2 {
		if _, err := svc.Ingest(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	var dump string
	db.Gorm.Raw(`SELECT concat_ws(' ', c.summary, c.transcript_text, c.transcript::text, c.fields::text, d.body::text)
		FROM calls c JOIN webhook_deliveries d ON d.call_ref = c.dialnexa_id WHERE c.dialnexa_id = 'call_vault1' LIMIT 1`).Scan(&dump)
	if dump == "" || strings.Contains(dump, "978") || strings.Contains(dump, "3704") || !strings.Contains(dump, "[vat]") || !strings.Contains(dump, "[iban]") {
		t.Fatalf("stored call: %s", dump)
	}
	var callID int64
	db.Gorm.Raw(`SELECT id FROM calls WHERE dialnexa_id = 'call_vault1'`).Scan(&callID)
	got, err := keys.Open(ctx, db.Gorm, callID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != string(redact.VAT) || got[0].Value != "DE 978 401 563" ||
		got[1].Kind != string(redact.IBAN) || got[1].Value != "de89 3704 0044 0532 0130 00" {
		t.Fatalf("vault entries: %+v (want the VAT id and the IBAN once each, no card)", got)
	}
	var restricted bool
	var suppressed string
	db.Gorm.Raw(`SELECT restricted FROM calls WHERE id = ?`, callID).Scan(&restricted)
	db.Gorm.Raw(`SELECT suppressed::text FROM calls WHERE id = ?`, callID).Scan(&suppressed)
	if !restricted || !strings.Contains(suppressed, `"passport": 1`) || !strings.Contains(suppressed, `"vat": 1`) {
		t.Errorf("call flag: restricted=%v suppressed=%s", restricted, suppressed)
	}
	if n := count(t, db, `SELECT count(*) FROM cases WHERE call_id = ? AND restricted AND jsonb_exists(suppressed, 'iban')`, callID); n == 0 {
		t.Error("no case of the call flagged restricted with its suppressed kinds")
	}
	other, _ := vault.ParseKeys(vault.NewKey())
	if _, err := other.Open(ctx, db.Gorm, callID); err == nil {
		t.Error("entries opened with a key that did not seal them")
	}
}
