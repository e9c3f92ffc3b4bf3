package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/handoff"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
	"github.com/countersign/countersign/models"
	"gorm.io/gorm"
)

// Action is one planned connector call: exactly what an approval will run.
type Action struct {
	ID          int64
	Position    int
	Connector   string // stripe | slack | zendesk | email | drive | sheets
	Operation   string
	Params      map[string]any
	Description string // the line an approver reads; addresses masked
	Status      string
	Key         string // idempotency key, once stored
}

// Alert kinds a plan posts to Slack (COUNTERSIGN_SLACK_CHANNELS names their channels).
const (
	AlertVIPBlocker      = "vip_blocker"
	AlertDuplicateCharge = "duplicate_charge"
	AlertChargeback      = "chargeback"
)

// SlackRouter gives the channel of an alert kind: its id, which the plan stores
// (conversations.history, which a rerun uses to find its earlier post, takes ids
// only), and its name as configured, which the approver reads.
type SlackRouter interface {
	SlackChannel(ctx context.Context, kind string) (id, name string, err error)
}

// planInput is what a plan is built from.
type planInput struct {
	ctx       context.Context
	c         *caseData
	facts     []models.BillingFact
	recipient Recipient
	slack     SlackRouter // nil: the channel is resolved when the alert is sent
	// kept lists the call's vault entries by ref and kind, never values
	// (billing corrections only; see keptRefs).
	kept []vault.Entry
}

// keptRefs lists the vault refs of c's call when its plan may use them.
func keptRefs(ctx context.Context, db *gorm.DB, c *caseData) ([]vault.Entry, error) {
	if c.Kind != "billing_correction" {
		return nil, nil
	}
	return vault.Refs(ctx, db, c.CallID)
}

// buildPlan returns the actions an approval of the case would run, by kind (the
// DESIGN.md table). It refuses, with a sentence, a plan it cannot make exact.
func buildPlan(in planInput) ([]Action, error) {
	var acts []Action
	var err error
	switch in.c.Kind {
	case "refund":
		acts, err = planRefund(in)
	case "dispute":
		acts, err = planDispute(in)
	case "collections":
		acts = planCollections(in)
	case "document_resend":
		acts, err = planDocument(in)
	case "billing_correction":
		acts, err = planBillingCorrection(in)
	case "payment_blocker":
		// Finance was alerted in Slack at ingest (internal/jobs case alerts); the
		// decision and the actions show up as replies in that alert's thread.
		acts = zendesk(in, "urgent")
	default:
		return nil, apperr.Invalidf("A %s case has nothing to approve: reclassify it to a case kind first.", in.c.Kind)
	}
	for i := range acts {
		acts[i].Position = i + 1
		if e := redactAction(&acts[i]); e != nil && err == nil {
			err = e
		}
	}
	return acts, err
}

// redactAction masks card, bank and tax data in what an action will send, before
// the plan is fingerprinted, stored, shown or queued. Params are re-decoded only
// when something was masked, so the usual plan keeps its Go types.
func redactAction(a *Action) error {
	a.Description, _ = redact.String(a.Description)
	raw, err := json.Marshal(a.Params)
	if err != nil {
		return fmt.Errorf("approval: encode params: %w", err)
	}
	red, counts, err := redact.JSON(raw)
	if err != nil || counts == nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(red))
	dec.UseNumber()
	var p map[string]any
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("approval: decode redacted params: %w", err)
	}
	a.Params = p
	return nil
}

func amountText(minor int64, cur string) string {
	return money.Amount{Minor: minor, Currency: cur}.Major() + " " + cur
}

// refundAmount checks the amount a refund would move.
func refundAmount(in planInput) (int64, string, error) {
	c := in.c
	if c.AmountMinor == nil || c.Currency == "" {
		return 0, "", apperr.Invalidf("The case has no amount and currency to refund: set them first.")
	}
	a, cur := *c.AmountMinor, strings.ToUpper(c.Currency)
	if a <= 0 || a > money.MaxMinor {
		return 0, "", apperr.Invalidf("A refund amount must be above zero and at most %s.", amountText(money.MaxMinor, cur))
	}
	if f := factOf(in.facts, "charge", "payment_intent"); f != nil && f.AmountMinor != nil && strings.EqualFold(f.Currency, cur) {
		if left := *f.AmountMinor - f.AmountRefunded; a > left {
			return 0, "", apperr.Invalidf("%s is more than the %s left to refund on %s.", amountText(a, cur), amountText(left, cur), f.ExternalID)
		}
	}
	return a, cur, nil
}

// refundTarget finds the charge or payment intent to refund.
func refundTarget(in planInput) (param, ref string, err error) {
	c := in.c
	ref = c.DestinationRef
	switch {
	case strings.HasPrefix(ref, "ch_") || strings.HasPrefix(ref, "py_"):
		return "charge", ref, nil
	case strings.HasPrefix(ref, "pi_"):
		return "payment_intent", ref, nil
	}
	if f := chargeFact(in); f != nil {
		return "charge", f.ExternalID, nil
	}
	if f := factOf(in.facts, "payment_intent"); f != nil {
		return "payment_intent", f.ExternalID, nil
	}
	return "", "", apperr.Invalidf("No charge or payment intent to refund: set the destination to a ch_ or pi_ id.")
}

func stripeRefund(in planInput, reason string) (Action, error) {
	a, cur, err := refundAmount(in)
	if err != nil {
		return Action{}, err
	}
	param, ref, err := refundTarget(in)
	if err != nil {
		return Action{}, err
	}
	for _, f := range in.facts {
		if f.ExternalID == ref && f.Disputed {
			return Action{}, apperr.Invalidf("%s is disputed at Stripe, which refuses refunds on a disputed charge: answer the dispute (a dispute case) instead.", ref)
		}
	}
	return Action{Connector: "stripe", Operation: "refund",
		Params: map[string]any{param: ref, "amount": a, "currency": cur, "reason": reason,
			"metadata": map[string]any{"countersign_case": strconv.FormatInt(in.c.ID, 10), "dialnexa_call": in.c.Call.DialNexaID}},
		Description: fmt.Sprintf("Stripe: refund %s on %s %s (reason %s)", amountText(a, cur), strings.ReplaceAll(param, "_", " "), ref, reason),
	}, nil
}

func planRefund(in planInput) ([]Action, error) {
	refund, err := stripeRefund(in, "requested_by_customer")
	if err != nil {
		return nil, err
	}
	acts := []Action{refund}
	cn := creditNote(in, refund)
	if cn != nil {
		acts = append(acts, *cn)
	}
	if in.recipient.To != "" {
		email := Action{Connector: "email", Operation: "send_document",
			Params: map[string]any{"to": in.recipient.To, "document_type": "refund_confirmation",
				"amount": refund.Params["amount"], "currency": refund.Params["currency"], "case": strconv.FormatInt(in.c.ID, 10),
				"summary": handoffOf(in).Public()},
			Description: fmt.Sprintf("Email: refund confirmation to %s (%s)", MaskEmail(in.recipient.To), in.recipient.describe()),
		}
		if cn != nil {
			email.Params["attach"] = "credit_note"
			email.Description += ", with the credit note PDF attached"
		}
		acts = append(acts, email)
	}
	if cn != nil {
		folder := docSpec{customer: factCustomer(in)}.folder()
		acts = append(acts, Action{Connector: "drive", Operation: "upload",
			Params: map[string]any{"document_type": "credit_note", "document_ref": cn.Params["invoice_number"], "invoice": cn.Params["invoice"],
				"folder": folder, "case": strconv.FormatInt(in.c.ID, 10), "description": handoffOf(in).Internal()},
			Description: "Drive: store the credit note PDF in " + folder})
	}
	return append(acts, zendesk(in, "normal")...), nil
}

// creditNote documents a refund of a paid invoice's payment with a Stripe credit
// note for the same amount, linked to that refund (so Stripe moves no more
// money) and not emailed by Stripe: nil when the case knows no paid invoice. An
// open invoice (not fully paid) gets none: its credit would first lower what is
// still owed, which a refund does not.
func creditNote(in planInput, refund Action) *Action {
	inv := factOf(in.facts, "invoice")
	if inv == nil || inv.Status != "paid" || !strings.HasPrefix(inv.ExternalID, "in_") {
		return nil
	}
	// Stripe links only a refund of the invoice's own payment to its credit note.
	if ch := paidBy(in, inv.ExternalID); ch != nil && refund.Params["charge"] != ch.ExternalID &&
		(refund.Params["payment_intent"] == nil || refund.Params["payment_intent"] != detailOf(ch)["payment_intent"]) {
		return nil
	}
	number := invoiceName(inv)
	a, cur := refund.Params["amount"].(int64), refund.Params["currency"].(string)
	reason, memo := "", "Refund requested by the customer."
	if refund.Params["reason"] == "duplicate" {
		reason, memo = "duplicate", "Duplicate charge refunded."
	}
	return &Action{Connector: "stripe", Operation: "credit_note",
		Params: map[string]any{"invoice": inv.ExternalID, "invoice_number": number, "amount": a, "currency": cur,
			"reason": reason, "memo": memo, "case": strconv.FormatInt(in.c.ID, 10)},
		Description: fmt.Sprintf("Stripe: credit note for %s on invoice %s (%s), linked to the refund above (no further money moves; Stripe sends no email)",
			amountText(a, cur), number, inv.ExternalID)}
}

func duplicateCharge(in planInput) bool {
	r := strings.ToLower(in.c.field("dispute_reason") + " " + in.c.field("refund_reason"))
	return strings.Contains(r, "duplicate") || strings.Contains(r, "double") || strings.Contains(r, "charged twice")
}

// openDispute is the case's Stripe dispute while it is still open.
func openDispute(in planInput) *models.BillingFact {
	d := factOf(in.facts, "dispute")
	if d == nil || d.Status == "won" || d.Status == "lost" {
		return nil
	}
	return d
}

func planDispute(in planInput) ([]Action, error) {
	var acts []Action
	if d := openDispute(in); d != nil {
		// Stripe refuses refunds on a charge with an open dispute (charge_disputed):
		// the dispute is answered with evidence, or rejected here and accepted in Stripe.
		acts = append(acts, disputeEvidence(in, d)...)
		alert, err := slackAlert(in, AlertChargeback, "chargeback opened")
		if err != nil {
			return nil, err
		}
		acts = append(acts, alert)
		return append(acts, zendesk(in, "high")...), nil
	}
	if duplicateCharge(in) {
		refund, err := stripeRefund(in, "duplicate")
		if err != nil {
			return nil, err
		}
		acts = append(acts, refund) // the duplicate was alerted in Slack at ingest
	} else {
		alert, err := slackAlert(in, AlertChargeback, "charge disputed")
		if err != nil {
			return nil, err
		}
		acts = append(acts, alert)
	}
	return append(acts, zendesk(in, "high")...), nil
}

// disputeEvidence stages the call as evidence (submit=false: summary, transcript
// and recording links as text, the redacted transcript as an uploaded PDF) and,
// while the due date is ahead, submits it as its own action: Stripe's submission
// is final, so the approver sees it as a separate line.
func disputeEvidence(in planInput, d *models.BillingFact) []Action {
	c := in.c
	text := "Customer call " + c.Call.DialNexaID + " (Countersign case " + strconv.FormatInt(c.ID, 10) + ")."
	if c.Call.Summary != "" {
		text += "\nCall summary: " + c.Call.Summary
	}
	if c.RecordURL != "" {
		text += "\nTranscript: " + c.RecordURL
	}
	if c.Call.RecordingURL != "" {
		text += "\nRecording: " + c.Call.RecordingURL
	}
	acts := []Action{{Connector: "stripe", Operation: "stage_evidence",
		Params: map[string]any{"dispute": d.ExternalID, "submit": false, "documents": []any{"call_transcript"},
			"evidence": map[string]any{"uncategorized_text": text}},
		Description: fmt.Sprintf("Stripe: stage evidence on dispute %s: call summary, transcript and recording links, transcript PDF (not submitted)", d.ExternalID)}}
	if d.DueDate != nil {
		due := d.DueDate.UTC().Format(time.RFC3339)
		acts = append(acts, Action{Connector: "stripe", Operation: "submit_evidence",
			Params:      map[string]any{"dispute": d.ExternalID, "due_by": due},
			Description: fmt.Sprintf("Stripe: SUBMIT the staged evidence on dispute %s to the card network (final; only before %s)", d.ExternalID, due)})
	}
	return acts
}

// planDocument sends the document Stripe holds to the (verified) recipient and
// stores the same file in the customer's Drive folder: an invoice's own PDF, a
// charge's receipt (rendered from Stripe's charge). Anything Stripe does not hold
// (statements, tax forms) is refused here, with a sentence, rather than sent as a
// made-up file.
func planDocument(in planInput) ([]Action, error) {
	d, err := documentOf(in)
	if err != nil {
		return nil, err
	}
	if in.recipient.To == "" {
		return nil, apperr.Invalidf("The call gave no address to send the %s to, and there is no billing email on file: set the recipient.", d.kind)
	}
	sum := handoffOf(in)
	id := strconv.FormatInt(in.c.ID, 10)
	email := map[string]any{"to": in.recipient.To, "document_type": d.kind, "document_ref": d.ref, "case": id, "summary": sum.Public()}
	upload := map[string]any{"document_type": d.kind, "document_ref": d.ref, "folder": d.folder(), "case": id, "description": sum.Internal()}
	for k, v := range map[string]string{"invoice": d.invoice, "charge": d.charge} {
		if v != "" {
			email[k], upload[k] = v, v
		}
	}
	return []Action{
		{Connector: "email", Operation: "send_document", Params: email,
			Description: fmt.Sprintf("Email: %s %s to %s (%s), with %s attached", d.kind, d.ref, MaskEmail(in.recipient.To), in.recipient.describe(), d.what())},
		{Connector: "drive", Operation: "upload", Params: upload,
			Description: fmt.Sprintf("Drive: store %s as %s in %s", d.what(), d.kind+" "+d.ref, d.folder())},
	}, nil
}

// docSpec is the document a resend names: its kind and reference, and the
// Stripe object that holds it when known.
type docSpec struct {
	kind, ref       string
	invoice, charge string // in_... / ch_...
	customer        string // cus_...
}

func (d docSpec) what() string {
	if d.kind == "receipt" {
		return "a PDF receipt of Stripe charge " + orDash(d.charge)
	}
	return "Stripe's invoice PDF"
}

// folder is the Drive folder the copy goes to: one per billing-system customer.
func (d docSpec) folder() string {
	if d.customer == "" {
		return "Countersign/customers/<the document's customer>"
	}
	return "Countersign/customers/" + d.customer
}

func documentOf(in planInput) (docSpec, error) {
	c := in.c
	d := docSpec{customer: factCustomer(in)}
	switch {
	case c.field("receipt_number") != "":
		d.kind, d.ref = "receipt", c.field("receipt_number")
	case c.field("invoice_number") != "":
		d.kind, d.ref = "invoice", c.field("invoice_number")
	case c.DestinationType == "invoice" || strings.HasPrefix(c.DestinationRef, "in_"):
		d.kind, d.ref = "invoice", c.DestinationRef
	case c.DestinationType == "receipt" || c.DestinationType == "charge" || strings.HasPrefix(c.DestinationRef, "ch_") || strings.HasPrefix(c.DestinationRef, "py_"):
		d.kind, d.ref = "receipt", c.DestinationRef
	}
	if d.kind == "" {
		if k := unheldDocument(c); k != "" {
			return d, apperr.Invalidf("The call asks for a %s. Stripe holds invoices, payment receipts and credit notes, but no %ss, and Countersign never sends a file the billing system does not hold: send it from the system that issues it, or set the destination to the invoice (in_...) or payment (ch_...) it is about.", k, k)
		}
		return d, apperr.Invalidf("Which document? The call named no invoice or receipt number: set the destination.")
	}
	if d.kind == "receipt" {
		return receiptOf(in, d)
	}
	if strings.HasPrefix(c.DestinationRef, "in_") {
		d.invoice = c.DestinationRef
	}
	if f := factOf(in.facts, "invoice"); f != nil {
		if f.Status == "draft" {
			return d, apperr.Invalidf("Invoice %s is a draft at Stripe: it has no PDF until it is finalized.", d.ref)
		}
		d.invoice = f.ExternalID
	}
	return d, nil
}

// receiptOf finds the charge a receipt belongs to: Stripe keeps receipts on
// charges, not under the receipt number. A call that names only an invoice gets
// the charge that paid it (the claim check found it through the invoice's
// payments); an unpaid invoice has no receipt.
func receiptOf(in planInput, d docSpec) (docSpec, error) {
	ref := in.c.DestinationRef
	inv := factOf(in.facts, "invoice")
	if inv != nil {
		d.invoice = inv.ExternalID
	}
	switch {
	case strings.HasPrefix(ref, "ch_") || strings.HasPrefix(ref, "py_"):
		d.charge = ref
	case chargeFact(in) != nil:
		d.charge = chargeFact(in).ExternalID
	case inv != nil && inv.Status != "paid" && inv.Status != "":
		return d, apperr.Invalidf("Invoice %s is %s at Stripe: it is not paid, so there is no receipt to send.", invoiceName(inv), inv.Status)
	case inv != nil:
		return d, apperr.Invalidf("No charge is known for invoice %s (see the claim check's notes: paid in several parts, or by no Stripe payment). Set the destination to the payment's ch_ id.", invoiceName(inv))
	default:
		return d, apperr.Invalidf("Stripe keeps receipts on payments: no charge is known for receipt %s. Set the destination to the payment's ch_ id.", d.ref)
	}
	return d, nil
}

// chargeFact is the case's charge: the one that paid the case's invoice when
// the claim check linked one, else the first charge found.
func chargeFact(in planInput) *models.BillingFact {
	if inv := factOf(in.facts, "invoice"); inv != nil {
		if f := paidBy(in, inv.ExternalID); f != nil {
			return f
		}
	}
	return factOf(in.facts, "charge")
}

// paidBy is the charge fact the claim check linked to invoice (found through
// the invoice's payments), or nil.
func paidBy(in planInput, invoice string) *models.BillingFact {
	for i, f := range in.facts {
		if f.Object == "charge" && f.ExternalID != "" && detailOf(&in.facts[i])["invoice"] == invoice {
			return &in.facts[i]
		}
	}
	return nil
}

func detailOf(f *models.BillingFact) map[string]any {
	var d map[string]any
	_ = json.Unmarshal(f.Detail, &d)
	return d
}

func invoiceName(inv *models.BillingFact) string {
	if n, _ := detailOf(inv)["number"].(string); n != "" {
		return n
	}
	return inv.ExternalID
}

// unheldDocument names a requested document Stripe does not hold ("statement",
// "tax form"), from the call's fields and summary; "" when none is named.
func unheldDocument(c *caseData) string {
	text := strings.ToLower(c.field("document_type") + " " + c.field("requested_document") + " " + c.Call.Summary)
	switch {
	case strings.Contains(text, "tax form") || strings.Contains(text, "w-9") || strings.Contains(text, "w9") || strings.Contains(text, "1099"):
		return "tax form"
	case strings.Contains(text, "statement"):
		return "statement"
	}
	return ""
}

// factCustomer is the billing-system customer of the case's facts (their
// detail's "customer"), else the call's customer reference.
func factCustomer(in planInput) string {
	for _, f := range in.facts {
		var d struct {
			Customer string `json:"customer"`
		}
		if json.Unmarshal(f.Detail, &d) == nil && strings.HasPrefix(d.Customer, "cus_") {
			return d.Customer
		}
	}
	if strings.HasPrefix(in.c.Call.CustomerRef, "cus_") {
		return in.c.Call.CustomerRef
	}
	return ""
}

func planBillingCorrection(in planInput) ([]Action, error) {
	// The customer whose details change: the destination when it names one, else
	// the call's billing id, else the customer the claim check found in the
	// billing system (by the caller's email).
	cust := in.c.Call.CustomerRef
	if in.c.DestinationType == "customer" && in.c.DestinationRef != "" {
		cust = in.c.DestinationRef
	}
	if f := factOf(in.facts, "customer"); cust == "" && f != nil && strings.HasPrefix(f.ExternalID, "cus_") {
		cust = f.ExternalID
	}
	if cust == "" {
		return nil, apperr.Invalidf("No billing-system customer to correct: set the destination to the customer id (cus_...).")
	}
	id := strconv.FormatInt(in.c.ID, 10)
	return []Action{
		{Connector: "zendesk", Operation: "ticket",
			Params: map[string]any{"mode": "create", "internal": true, "priority": "normal", "external_id": in.c.Call.DialNexaID,
				"subject": "Billing correction for customer " + cust + " (case " + id + ")",
				"body":    handoffOf(in).Internal()},
			Description: "Zendesk: open internal ticket for billing correction of customer " + cust},
		correctionAction(in, cust, id),
	}, nil
}

// correctionAction applies the call's new billing address and tax id to the
// Stripe customer. The tax id is planned as its kind and vault ref only; the
// worker opens the value. With neither, finance edits Stripe by hand.
func correctionAction(in planInput, cust, caseID string) Action {
	params := map[string]any{"customer": cust, "case": caseID}
	var what []string
	addr := billingAddress(in.c)
	if len(addr) > 0 {
		params["address"] = addr
		what = append(what, "set billing address to "+describeAddress(addr))
	}
	for _, e := range in.kept {
		if e.Kind == string(redact.VAT) || e.Kind == string(redact.EIN) {
			params["tax_id"] = map[string]any{"kind": e.Kind, "ref": e.Ref}
			what = append(what, "add tax id ["+e.Kind+"] from the vault ("+e.Ref+"; value never shown here)")
			break
		}
	}
	if len(what) == 0 {
		params["change"] = "billing_details"
		params["values"] = "entered by finance in the billing system; the call gave no address or tax id"
		return Action{Connector: "stripe", Operation: "update_customer", Params: params,
			Description: "Stripe: update billing details of customer " + cust + " (manual: the call gave no address or tax id; finance enters them in Stripe)"}
	}
	return Action{Connector: "stripe", Operation: "update_customer", Params: params,
		Description: "Stripe: customer " + cust + ": " + strings.Join(what, "; ")}
}

// billingAddress reads the corrected address from the call's fields: the
// billing_address_* fields, else new_billing_address as "street, postcode
// city[, country]". Country is a two-letter ISO code or left out.
func billingAddress(c *caseData) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"line1", "line2", "city", "postal_code", "state", "country"} {
		if v := c.field("billing_address_" + k); v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		parts := strings.Split(c.field("new_billing_address"), ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) >= 2 && parts[0] != "" {
			out["line1"] = parts[0]
			if m := postcodeCity.FindStringSubmatch(parts[1]); m != nil {
				out["postal_code"], out["city"] = m[1], m[2]
			} else {
				out["city"] = parts[1]
			}
			if len(parts) >= 3 {
				out["country"] = parts[len(parts)-1]
			}
		}
	}
	if cc := strings.ToUpper(out["country"]); len(cc) == 2 {
		out["country"] = cc
	} else {
		delete(out, "country")
	}
	if out["line1"] == "" {
		return nil
	}
	return out
}

var postcodeCity = regexp.MustCompile(`^([0-9]{4,6}|[0-9]{2}-[0-9]{3})\s+(\S.*)$`) // "10115 Berlin", "00-950 Warszawa"

func describeAddress(a map[string]string) string {
	var parts []string
	for _, k := range []string{"line1", "line2", "postal_code", "city", "state", "country"} {
		if a[k] != "" {
			parts = append(parts, a[k])
		}
	}
	return strings.Join(parts, ", ")
}

// planCollections logs the promise in the collections sheet and, while the
// invoice is open at Stripe and the address is verified, emails the customer
// the invoice's payment link (Stripe's hosted invoice page, read when sent).
func planCollections(in planInput) []Action {
	acts := []Action{sheetsRow(in)}
	inv := factOf(in.facts, "invoice")
	if inv == nil || inv.Status != "open" || in.recipient.To == "" || !in.recipient.Verified {
		return acts
	}
	ref := invoiceName(inv)
	return append(acts, Action{Connector: "email", Operation: "send_document",
		Params: map[string]any{"to": in.recipient.To, "document_type": "payment_link", "document_ref": ref, "invoice": inv.ExternalID,
			"case": strconv.FormatInt(in.c.ID, 10), "summary": handoffOf(in).Public()},
		Description: fmt.Sprintf("Email: payment link for invoice %s (Stripe's hosted invoice page, only while it is open) to %s (%s)",
			ref, MaskEmail(in.recipient.To), in.recipient.describe())})
}

func sheetsRow(in planInput) Action {
	c := in.c
	amount, cur := "", strings.ToUpper(c.Currency)
	if c.AmountMinor != nil {
		amount = money.Amount{Minor: *c.AmountMinor, Currency: cur}.Major()
	}
	promise := c.field("promise_to_pay_date")
	row := append(handoffOf(in).Row(), amount, cur, promise, c.field("promised_next_step"))
	desc := "Sheets: append collections row for case " + strconv.FormatInt(c.ID, 10)
	if amount != "" {
		desc += " (promise to pay " + amount + " " + cur
		if promise != "" {
			desc += " by " + promise
		}
		desc += ")"
	}
	return Action{Connector: "sheets", Operation: "append_row",
		Params: map[string]any{"sheet": "collections", "values": row}, Description: desc}
}

func slackAlert(in planInput, kind, what string) (Action, error) {
	c := in.c
	head := fmt.Sprintf("%s by %s", what, orDash(c.CustomerLabel))
	if c.DestinationRef != "" {
		head += " on " + c.DestinationRef
	}
	if c.AmountMinor != nil && c.Currency != "" {
		head += " (" + amountText(*c.AmountMinor, strings.ToUpper(c.Currency)) + ")"
	}
	head += " — Countersign case " + strconv.FormatInt(c.ID, 10)
	params := map[string]any{"kind": kind, "text": head + "\n" + handoffOf(in).Slack()}
	where := "the " + kind + " channel"
	if in.slack != nil {
		id, name, err := in.slack.SlackChannel(in.ctx, kind)
		if err != nil {
			if !connector.IsPermanent(err) {
				return Action{}, apperr.Unavailablef("Slack could not be asked for the %s alert channel (%s); reload this case in a moment.", kind, err)
			}
			return Action{}, apperr.Invalidf("The Slack channel for %s alerts cannot be used: %s. Fix COUNTERSIGN_SLACK_CHANNELS or the channel, then reload this case.", kind, err)
		}
		params["channel"], params["channel_name"], where = id, name, name
	}
	return Action{Connector: "slack", Operation: "alert", Params: params, Description: "Slack " + where + ": " + head + " (with the handoff summary)"}, nil
}

// zendesk opens a ticket whose first, internal comment is the handoff summary;
// when the call came from an existing ticket it adds the summary as an internal
// note and the customer-facing reply as a public comment instead.
func zendesk(in planInput, priority string) []Action {
	c := in.c
	sum := handoffOf(in)
	note := sum.Internal()
	status := ticketStatus[c.Kind]
	if t := ticketOf(c); t != "" {
		return []Action{{Connector: "zendesk", Operation: "ticket",
			Params:      map[string]any{"mode": "comment", "ticket_id": t, "note": note, "public": false, "status": status},
			Description: fmt.Sprintf("Zendesk: internal note (handoff summary) on ticket %s, status %s", t, status)}}
	}
	params := map[string]any{"mode": "create", "priority": priority, "status": status, "note": note,
		"subject": sum.Title}
	desc := fmt.Sprintf("Zendesk: %s-priority ticket, status %s, internal only (no verified customer address to reply to)", priority, status)
	if reply := replyFor(in); reply != "" {
		params["requester_email"], params["reply"] = in.recipient.To, reply
		desc = fmt.Sprintf("Zendesk: %s-priority ticket for %s with the reviewed %s reply and an internal note, status %s",
			priority, MaskEmail(in.recipient.To), strings.ReplaceAll(c.Kind, "_", " "), status)
	}
	return []Action{{Connector: "zendesk", Operation: "ticket", Params: params, Description: desc + " (the handoff summary as the note)"}}
}

// ticketStatus is the status a case's ticket takes when its actions have run (the
// ticket is the plan's last action): solved where the actions settle the request,
// open where a person follows up.
var ticketStatus = map[string]string{"refund": "solved", "dispute": "open", "payment_blocker": "open"}

// replyFor is the public reply for the case, or "" when there is no verified
// customer address to send it to (the ticket is then internal only).
func replyFor(in planInput) string {
	if in.recipient.To == "" || !in.recipient.Verified {
		return ""
	}
	return handoff.Reply(in.c.Kind)
}

func ticketOf(c *caseData) string {
	for _, k := range []string{"zendesk_ticket_id", "ticket_id", "zendesk_ticket"} {
		if v := c.field(k); v != "" {
			return v
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "unknown customer"
	}
	return s
}
