package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/handoff"
)

// handoffOf is the case's handoff summary, built only from stored case data so
// that a plan built twice gets the same bytes.
func handoffOf(in planInput) handoff.Summary {
	c := in.c
	hi := handoff.Input{CaseID: c.ID, Kind: c.Kind, Suspected: c.SuspectedKind, CallRef: c.Call.DialNexaID,
		Customer: c.CustomerLabel, VIP: c.VIP, CallSummary: c.Call.Summary, ObjectType: c.DestinationType, ObjectRef: c.DestinationRef,
		Owner: c.Owner, NextStep: c.NextStep, Deadline: c.FollowUpDeadline, Fields: c.textFields(), CaseURL: caseURL(c)}
	if c.AmountMinor != nil && c.Currency != "" {
		hi.Amount = amountText(*c.AmountMinor, strings.ToUpper(c.Currency))
	}
	if f := factOf(in.facts, primaryObjects(c.DestinationType)...); f != nil {
		hi.StripeID = f.ExternalID
		hi.StripeDashboard = "https://dashboard.stripe.com"
		if f.Source == "sandbox" {
			hi.StripeDashboard += "/test"
		}
	}
	var score []struct {
		Points float64 `json:"points"`
		Why    string  `json:"why"`
	}
	_ = json.Unmarshal([]byte(c.CheckScore), &score)
	for _, l := range score {
		// The points a claim gets for what the call itself names ("the call names a
		// record the billing system does not have") verify nothing.
		if l.Points > 0 && !strings.HasPrefix(l.Why, "the call names") {
			hi.Verified = append(hi.Verified, l.Why)
		}
	}
	_ = json.Unmarshal([]byte(c.CheckRoute), &hi.Problems)
	if f := factOf(in.facts, "invoice"); f != nil && f.AmountMinor != nil && f.Status != "paid" {
		line := "invoice " + f.ExternalID + " is " + orDash(f.Status) + " with " +
			amountText(*f.AmountMinor, strings.ToUpper(f.Currency)) + " due"
		if f.DueDate != nil {
			line += " on " + f.DueDate.UTC().Format("2006-01-02")
		}
		hi.Verified = append(hi.Verified, line)
	}
	return handoff.Build(hi)
}

// primaryObjects are the fact objects, best first, that a destination type names.
func primaryObjects(destType string) []string {
	switch destType {
	case "charge", "payment":
		return []string{"charge", "payment_intent", "invoice", "subscription", "customer"}
	case "subscription":
		return []string{"subscription", "invoice", "charge", "customer"}
	case "customer":
		return []string{"customer"}
	}
	return []string{"invoice", "charge", "payment_intent", "subscription", "customer"}
}

// caseURL is the case page: the record URL ingest gave the case, while it still
// points at the case.
func caseURL(c *caseData) string {
	suffix := fmt.Sprintf("/cases/%d", c.ID)
	if strings.HasSuffix(c.RecordURL, suffix) {
		return c.RecordURL
	}
	return ""
}

// textFields are the call's text fields (the handoff templates read a few).
func (c *caseData) textFields() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"refund_reason", "dispute_reason", "promise_to_pay_date", "promise_to_pay_amount",
		"receipt_number", "invoice_number"} {
		if v := c.field(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// HandoffTx is case caseID's handoff summary as it stands, for alerts and pages
// outside a plan.
func HandoffTx(ctx context.Context, tx *gorm.DB, caseID int64) (handoff.Summary, error) {
	c, err := loadCase(ctx, tx, caseID, false)
	if err != nil {
		return handoff.Summary{}, err
	}
	facts, _, err := loadFacts(ctx, tx, caseID)
	if err != nil {
		return handoff.Summary{}, err
	}
	return handoffOf(planInput{c: c, facts: facts}), nil
}
