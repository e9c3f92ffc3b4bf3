package redact

import "testing"

// TestForms covers the forms the issue reported stored in clear (#13) and
// the business identifiers that were masked by mistake.
func TestForms(t *testing.T) {
	tests := []struct {
		in   string
		want Kind // "" for none
	}{
		{"card 4242.4242.4242.4242", Card},
		{"card 4242/4242/4242/4242", Card},
		{"card 4242_4242_4242_4242", Card},
		{"card 4242  4242  4242  4242", Card},
		{"card 4242\u00a04242\u00a04242\u00a04242", Card},
		{"card 4242\u200b4242\u200b4242\u200b4242", Card},
		{"card 4242\u20134242\u20134242\u20134242", Card},
		{"card \uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12", Card},
		{"card \u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662", Card},
		{"my card is 4242 4242\n4242 4242", Card},
		{"four two four two. four two four two. four two four two. four two four two", Card},
		{"four two four two uh four two four two um four two four two four two four two", Card},
		{"forty-two forty-two forty-two forty-two forty-two forty-two forty-two forty-two", Card},
		{"forty two forty two, forty two forty two, forty two forty two, forty two forty two", Card},
		{"four thousand", ""},
		{"forty-two hundred forty-two hundred forty-two hundred forty-two forty-two", Card},
		{"iban de89 3704 0044 0532 0130 00", IBAN},
		{"IBAN De89-3704-0044-0532-0130-00", IBAN},
		{"DE89  3704  0044  0532  0130  00", IBAN},
		{"GB82 WEST 1234 5698 7654 32", IBAN},
		{"account NO93 8601 1117 947", IBAN},
		{"ssn 123.45.6789", SSN},
		{"123-45-6789 is my social", SSN},
		{"one two three dash four five dash six seven eight nine", SSN},
		{"my social security number, let me find the card, hold on a second, okay: 123 45 6789", SSN},
		{"123 45 6789 is my SSN", SSN},
		{"the employer id is 12 3456789", EIN},
		{"VAT invoice 2026004512", ""},
		{"customer account number 88120455", ""},
		{"ticket 123450987", ""},
		{"invoice number 45-1234567", ""},
		{"tin 123456789 is the tin can sku", ""},
		{"bank account number 88120455", BankAccount},
		{"account number 88120455 at Chase bank", BankAccount},
		{"CHE-271.493.605 MWST", VAT},
		{"our VAT id is fr 44 732829320", VAT},
		{"NO 083517492 MVA", VAT},
		{"call me on +44 20 7946 0958", ""},
		{"charged 1,249.00 on 2026-11-24", ""},
		{"pi_3PqL2K2eZvKYlo2C0a1b2c3d and ch_3PqL2K2eZvKYlo2C1a2b3c4d", ""},
	}
	for _, tt := range tests {
		out, c := String(tt.in)
		if tt.want == "" {
			if c != nil {
				t.Errorf("String(%q) = %q %v, want nothing masked", tt.in, out, c)
			}
			continue
		}
		if c[tt.want] == 0 {
			t.Errorf("String(%q) = %q %v, want a %s", tt.in, out, c, tt.want)
		}
		checkInvariants(t, tt.in, out, c)
	}
}

func TestVaultFindingsAndMentions(t *testing.T) {
	out, c, found := StringVault("VAT de 978 401 563 and card 4242424242424242, ssn 123-45-6789")
	if out != "VAT [vat] and card [card •••• 4242], ssn [ssn]" || c.Total() != 3 {
		t.Fatalf("StringVault = %q %v", out, c)
	}
	if len(found) != 2 || found[0] != (Finding{VAT, "de 978 401 563"}) || found[1] != (Finding{SSN, "123-45-6789"}) {
		t.Fatalf("findings = %#v (cards are never kept)", found)
	}
	d, err := JSONDocument([]byte(`{"t":[{"text":"IBAN DE89 3704 0044"},{"text":"0532 0130 00"}],"n":"I sent a photo of my Passport and our tax return"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Restricted) != 1 || d.Restricted[0].Kind != IBAN || d.Restricted[0].Value != "DE89 3704 0044\n0532 0130 00" {
		t.Errorf("Restricted = %#v", d.Restricted)
	}
	if d.Mentions[Passport] != 1 || d.Mentions[TaxReturn] != 1 {
		t.Errorf("Mentions = %v", d.Mentions)
	}
	if Mentions("passporting rules") != nil {
		t.Error("a word containing passport is no mention")
	}
}
