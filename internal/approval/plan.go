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
		acts = []Action{sheetsRow(in)}
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
	if f := factOf(in.facts, "charge"); f != nil {
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
	if in.recipient.To != "" {
		acts = append(acts, Action{Connector: "email", Operation: "send_document",
			Params: map[string]any{"to": in.recipient.To, "document_type": "refund_confirmation",
				"amount": refund.Params["amount"], "currency": refund.Params["currency"], "case": strconv.FormatInt(in.c.ID, 10),
				"summary": handoffOf(in).Public()},
			Description: fmt.Sprintf("Email: refund confirmation to %s (%s)", MaskEmail(in.recipient.To), in.recipient.describe()),
		})
	}
	return append(acts, zendesk(in, "normal")...), nil
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

func planDocument(in planInput) ([]Action, error) {
	docType, docRef := documentOf(in.c)
	if docRef == "" {
		return nil, apperr.Invalidf("Which document? The call named no invoice or receipt number: set the destination.")
	}
	if in.recipient.To == "" {
		return nil, apperr.Invalidf("The call gave no address to send the %s to, and there is no billing email on file: set the recipient.", docType)
	}
	sum := handoffOf(in)
	return []Action{
		{Connector: "email", Operation: "send_document",
			Params: map[string]any{"to": in.recipient.To, "document_type": docType, "document_ref": docRef, "case": strconv.FormatInt(in.c.ID, 10),
				"summary": sum.Public()},
			Description: fmt.Sprintf("Email: %s %s to %s (%s)", docType, docRef, MaskEmail(in.recipient.To), in.recipient.describe())},
		{Connector: "drive", Operation: "upload",
			Params: map[string]any{"document_type": docType, "document_ref": docRef, "folder": "Countersign/resends", "case": strconv.FormatInt(in.c.ID, 10),
				"description": sum.Internal()},
			Description: fmt.Sprintf("Drive: copy %s %s to Countersign/resends", docType, docRef)},
	}, nil
}

func documentOf(c *caseData) (string, string) {
	if r := c.field("receipt_number"); r != "" {
		return "receipt", r
	}
	if r := c.field("invoice_number"); r != "" {
		return "invoice", r
	}
	switch c.DestinationType {
	case "invoice", "receipt":
		return c.DestinationType, c.DestinationRef
	}
	return "document", c.DestinationRef
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
