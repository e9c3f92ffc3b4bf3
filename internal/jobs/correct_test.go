package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
)

// keepVAT seals value as the [vat] of a new call, as ingest does, and returns
// the call id and the entry's ref.
func (e *env) keepVAT(keys *vault.Keyring, value string) (int64, string) {
	e.t.Helper()
	call := e.scalar(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_' || md5(random()::text), 'completed') RETURNING id`)
	q, args, err := keys.InsertStatement(call, []redact.Finding{{Kind: redact.VAT, Value: value}})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Gorm.Exec(q, args...).Error; err != nil {
		e.t.Fatal(err)
	}
	refs, err := vault.Refs(e.ctx, e.db.Gorm, call)
	if err != nil || len(refs) != 1 {
		e.t.Fatalf("vault refs: %v %v", refs, err)
	}
	return call, refs[0].Ref
}

func (e *env) correctionCase(call int64, p jobs.CorrectionParams) (int64, int64) {
	e.t.Helper()
	caseID := e.scalar(`INSERT INTO cases (call_id, kind, status) VALUES (?, 'billing_correction', 'awaiting_approval') RETURNING id`, call)
	b, err := json.Marshal(p)
	if err != nil {
		e.t.Fatal(err)
	}
	id := e.scalar(`INSERT INTO actions (case_id, position, connector, operation, params, description, idempotency_key)
		VALUES (?, 1, 'stripe', 'update_customer', ?::jsonb, 'test', ?) RETURNING id`,
		caseID, string(b), fmt.Sprintf("call_test:update_customer:%d", caseID))
	return caseID, id
}

// An approved billing correction sets the customer's address and adds the VAT id
// opened from the vault, once, even when the first attempt crashes after Stripe
// answered; the receipt and every stored row carry the txi id and type, never
// the value.
func TestBillingCorrectionAppliesAddressAndVaultedTaxID(t *testing.T) {
	keys, err := vault.ParseKeys(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	crashed := map[int64]bool{}
	e := newEnv(t, jobs.Options{Vault: keys, AfterCall: func(ctx context.Context, actionID int64) error {
		mu.Lock()
		defer mu.Unlock()
		if crashed[actionID] {
			return nil
		}
		crashed[actionID] = true
		return errors.New("simulated crash after Stripe answered")
	}})
	const secret = "DE 978 401 563"
	cust := e.sb.Stripe.AddCustomer(stripefake.Customer{Email: "ana@example.com"})
	call, ref := e.keepVAT(keys, secret)
	caseID, id := e.correctionCase(call, jobs.CorrectionParams{Customer: cust, Case: "1",
		Address: map[string]string{"line1": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"},
		TaxID:   &jobs.VaultRef{Kind: "vat", Ref: ref}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, "done", 20*time.Second)
	if !crashed[id] {
		t.Fatal("the action never crashed: the retry is not tested")
	}
	got, _ := e.sb.Stripe.Customer(cust)
	if got.Address["line1"] != "Hauptstraße 5" || got.Address["postal_code"] != "10115" || got.Address["city"] != "Berlin" || got.Address["country"] != "DE" {
		t.Errorf("address at Stripe = %v", got.Address)
	}
	if len(got.TaxIDs) != 1 || got.TaxIDs[0].Type != "eu_vat" || got.TaxIDs[0].Value != "DE978401563" {
		t.Fatalf("tax ids at Stripe = %+v, want the VAT id once", got.TaxIDs)
	}
	txi := got.TaxIDs[0].ID
	if rid := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, id); rid != cust {
		t.Errorf("receipt id %q, want the customer %s", rid, cust)
	}
	receipt := e.text(`SELECT receipt::text FROM actions WHERE id = ?`, id)
	if !strings.Contains(receipt, txi) || !strings.Contains(receipt, "eu_vat") || !strings.Contains(receipt, cust) {
		t.Errorf("receipt %s lacks the customer, %s or the type", receipt, txi)
	}
	dump := e.text(`SELECT concat_ws(' ', (SELECT string_agg(a::text, ' ') FROM actions a),
		(SELECT string_agg(l::text, ' ') FROM audit_log l), (SELECT string_agg(j.args::text || coalesce(j.errors::text, ''), ' ') FROM river_job j),
		(SELECT string_agg(f::text, ' ') FROM action_effects f))`)
	for _, leak := range []string{"978", "401 563", "DE978"} {
		if strings.Contains(dump, leak) {
			t.Errorf("stored rows carry the tax value (%q)", leak)
		}
	}
}

// Stripe's refusals reach a person with Stripe's reason and without the value;
// a plan without values stays a manual step.
func TestBillingCorrectionRefusals(t *testing.T) {
	keys, _ := vault.ParseKeys(vault.NewKey())
	e := newEnv(t, jobs.Options{Vault: keys})
	e.start()
	cust := e.sb.Stripe.AddCustomer(stripefake.Customer{})
	cases := []struct {
		name string
		p    jobs.CorrectionParams
		want string
	}{
		{"malformed value", jobs.CorrectionParams{Customer: cust, TaxID: &jobs.VaultRef{Kind: "vat"}}, "Invalid value for eu_vat"},
		{"unknown customer", jobs.CorrectionParams{Customer: "cus_missing", Address: map[string]string{"line1": "1 Main St"}}, "No such customer"},
		{"nothing to apply", jobs.CorrectionParams{Customer: cust}, "no address or tax id"},
	}
	for _, tc := range cases {
		call, ref := e.keepVAT(keys, "DE 12")
		if tc.p.TaxID != nil {
			tc.p.TaxID.Ref = ref
		}
		caseID, id := e.correctionCase(call, tc.p)
		if err := e.approve(caseID, false); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(id, "needs_attention", 20*time.Second)
		msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, id)
		if !strings.Contains(msg, tc.want) || strings.Contains(msg, "DE 12") {
			t.Errorf("%s: error %q, want %q and never the value", tc.name, msg, tc.want)
		}
	}
	if got, _ := e.sb.Stripe.Customer(cust); len(got.TaxIDs) != 0 {
		t.Errorf("refused tax id was added: %+v", got.TaxIDs)
	}
}
