package jobs

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
)

// correctCustomer applies a billing correction to the Stripe customer: the new
// address, and the tax id opened from the vault here and nowhere else. The
// receipt carries the customer, the tax id object id and the type, never the
// value; nothing here logs.
func (s *Service) correctCustomer(ctx context.Context, a *action) (connector.Receipt, error) {
	var p CorrectionParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	if len(p.Address) == 0 && p.TaxID == nil {
		return connector.Receipt{}, permanent("update customer", "manual_step",
			"the call gave no address or tax id to apply: finance changes the billing details directly in Stripe, then closes the case")
	}
	c := s.conns.Stripe
	if c == nil {
		return connector.Receipt{}, missing("Stripe")
	}
	cp := stripe.CorrectionParams{Customer: p.Customer, IdempotencyKey: a.IdempotencyKey,
		Address: stripe.Address{Line1: p.Address["line1"], Line2: p.Address["line2"], City: p.Address["city"],
			PostalCode: p.Address["postal_code"], State: p.Address["state"], Country: p.Address["country"]}}
	if p.TaxID != nil {
		value, err := s.openTaxID(ctx, a.CaseID, *p.TaxID)
		if err != nil {
			return connector.Receipt{}, err
		}
		cp.TaxType, cp.TaxValue = StripeTaxType(p.TaxID.Kind, value), value
		if cp.TaxType == "" {
			return connector.Receipt{}, permanent("update customer", "tax_type_unknown",
				"Countersign cannot tell which Stripe tax id type the kept ["+p.TaxID.Kind+"] is: add it in Stripe directly")
		}
	}
	rc, err := c.CorrectCustomer(ctx, cp)
	if err != nil {
		return connector.Receipt{}, err
	}
	return correctionReceipt(rc, len(p.Address) > 0), nil
}

func correctionReceipt(rc stripe.CorrectionReceipt, address bool) connector.Receipt {
	var parts []string
	if address {
		parts = append(parts, "billing address updated")
	}
	if rc.TaxID != "" {
		parts = append(parts, "tax id "+rc.TaxID+" ("+rc.TaxType+") added")
	}
	raw, _ := json.Marshal(map[string]any{"customer": rc.Customer, "address_updated": address,
		"tax_id": rc.TaxID, "tax_id_type": rc.TaxType})
	return connector.Receipt{ExternalID: rc.Customer, Summary: "customer " + rc.Customer + ": " + strings.Join(parts, "; "), Raw: raw}
}

// openTaxID decrypts the vault entry ref of the case's call.
func (s *Service) openTaxID(ctx context.Context, caseID int64, ref VaultRef) (string, error) {
	if s.opts.Vault == nil {
		return "", missing("vault")
	}
	var callID int64
	if err := s.db.Gorm.WithContext(ctx).Raw(`SELECT call_id FROM cases WHERE id = ?`, caseID).Scan(&callID).Error; err != nil {
		return "", err
	}
	entries, err := s.opts.Vault.Open(ctx, s.db.Gorm, callID)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Ref == ref.Ref && e.Kind == ref.Kind {
			return e.Value, nil
		}
	}
	return "", permanent("update customer", "vault_entry_missing",
		"the ["+ref.Kind+"] the plan refers to ("+ref.Ref+") is no longer in the vault (retention removed the call?)")
}

// StripeTaxType maps a kept kind and its value to Stripe's tax id type: a VAT
// number by its country prefix, an EIN to us_ein; "" when unknown.
func StripeTaxType(kind, value string) string {
	v := strings.ToUpper(strings.ReplaceAll(value, " ", ""))
	switch kind {
	case "ein":
		return "us_ein"
	case "vat":
		switch {
		case strings.HasPrefix(v, "GB"):
			return "gb_vat"
		case strings.HasPrefix(v, "CHE"):
			return "ch_vat"
		case strings.HasSuffix(v, "MVA"):
			return "no_vat"
		case len(v) > 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z':
			return "eu_vat"
		}
	}
	return ""
}
