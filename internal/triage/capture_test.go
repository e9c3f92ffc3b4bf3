package triage

import "testing"

func TestCapture(t *testing.T) {
	in := call("", "Agent: Acme billing.\nUser: We're registered in the EU, region EU-DE. Please call me back tomorrow.\n"+
		"User: The ticket is https://acme.zendesk.com/agent/tickets/4711 and I want a credit of 50 USD.",
		map[string]any{"call_intent": "refund_request", "tax_region": "EU-DE", "credit_request": "50 USD",
			"support_ticket_link": "https://acme.zendesk.com/agent/tickets/4711", "crm_link": "javascript:alert(1)",
			"finance_owner": "Fiona Finance"})
	res := Classify(in, DefaultMapping())
	got := Capture(in, res.Fields)
	want := map[string]Captured{
		FieldTaxRegion:         {"EU-DE", "User: We're registered in the EU, region EU-DE. Please call me back tomorrow."},
		FieldCreditRequest:     {"50 USD", "User: The ticket is https://acme.zendesk.com/agent/tickets/4711 and I want a credit of 50 USD."},
		FieldSupportTicketLink: {"https://acme.zendesk.com/agent/tickets/4711", "User: The ticket is https://acme.zendesk.com/agent/tickets/4711 and I want a credit of 50 USD."},
		FieldFinanceOwner:      {"Fiona Finance", ""},
		FieldCallbackExpected:  {"yes", "User: We're registered in the EU, region EU-DE. Please call me back tomorrow."},
	}
	if len(got) != len(want) {
		t.Errorf("captured %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %+v, want %+v", k, got[k], w)
		}
	}
	if _, ok := got[FieldCRMLink]; ok {
		t.Error("a javascript: link was captured")
	}
}

func TestCapturePromiseToPay(t *testing.T) {
	in := call("", "User: I can pay 640.00 by 2026-12-05.", map[string]any{"call_intent": "collections", "currency": "GBP",
		"promise_to_pay": true, "promise_to_pay_amount": num("640.00"), "promise_to_pay_date": "2026-12-05"})
	got := Capture(in, Classify(in, DefaultMapping()).Fields)
	if got[FieldPromiseToPayAmount] != (Captured{"640.00 GBP", "User: I can pay 640.00 by 2026-12-05."}) || got[FieldPromiseToPayDate].Value != "2026-12-05" ||
		got[FieldPromiseToPayDate].Passage != "User: I can pay 640.00 by 2026-12-05." {
		t.Errorf("promise: %+v", got)
	}
	in.Analysis["promise_to_pay_date"] = "next Friday"
	if _, ok := Capture(in, Classify(in, DefaultMapping()).Fields)[FieldPromiseToPayDate]; ok {
		t.Error("an unparseable promise date was captured")
	}
}
