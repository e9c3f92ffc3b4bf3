package approval

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
)

// A billing correction plans the call's new address and the vaulted VAT id by
// kind and ref; the stored plan and the approval page's line never hold the
// value. Without either, the action stays the manual step.
func TestBillingCorrectionPlansAddressAndVaultRef(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	keys, err := vault.ParseKeys(vault.NewKey())
	must(t, err)
	id := f.newCase(caseSpec{kind: "billing_correction", fields: `{"new_billing_address": "Hauptstraße 5, 10115 Berlin, de"}`})
	var callID int64
	must(t, f.db.Gorm.Raw(`SELECT call_id FROM cases WHERE id = ?`, id).Scan(&callID).Error)
	q, args, err := keys.InsertStatement(callID, []redact.Finding{{Kind: redact.VAT, Value: "DE 978 401 563"}})
	must(t, err)
	must(t, f.db.Gorm.Exec(q, args...).Error)
	refs, err := vault.Refs(ctx, f.db.Gorm, callID)
	must(t, err)

	if _, err := f.svc.RequestApproval(ctx, lead, id, ""); err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.Overview(ctx, lead, id)
	must(t, err)
	var line string
	var params map[string]any
	for _, a := range o.Actions {
		if a.Connector == "stripe" && a.Operation == "update_customer" {
			line, params = a.Description, a.Params
		}
	}
	want := "Stripe: customer cus_T1: set billing address to Hauptstraße 5, 10115, Berlin, DE; add tax id [vat] from the vault (" + refs[0].Ref
	if !strings.HasPrefix(line, want) {
		t.Errorf("plan line %q, want it to start %q", line, want)
	}
	raw, _ := json.Marshal(params)
	if !strings.Contains(string(raw), `"tax_id":{"kind":"vat","ref":"`+refs[0].Ref+`"}`) ||
		!strings.Contains(string(raw), `"postal_code":"10115"`) || !strings.Contains(string(raw), `"country":"DE"`) {
		t.Errorf("params %s", raw)
	}
	var stored string
	must(t, f.db.Gorm.Raw(`SELECT string_agg(a::text, ' ') FROM actions a WHERE case_id = ?`, id).Scan(&stored).Error)
	if stored == "" || strings.Contains(stored, "978") || strings.Contains(line, "978") {
		t.Errorf("stored plan or line carries the VAT value: %s", stored)
	}

	bare := f.newCase(caseSpec{kind: "billing_correction"})
	if _, err := f.svc.RequestApproval(ctx, lead, bare, ""); err != nil {
		t.Fatal(err)
	}
	o, err = f.svc.Overview(ctx, lead, bare)
	must(t, err)
	for _, a := range o.Actions {
		if a.Operation == "update_customer" && (a.Params["address"] != nil || a.Params["tax_id"] != nil || !strings.Contains(a.Description, "manual")) {
			t.Errorf("plan without values: %+v", a)
		}
	}
}
