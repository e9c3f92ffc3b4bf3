package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/countersign/countersign/internal/connector"
	sdk "github.com/stripe/stripe-go/v82"
)

// evidenceFields are the text evidence fields Stripe accepts (file fields take
// file ids). Anything else is refused before calling Stripe.
var evidenceFields = map[string]bool{
	"access_activity_log": true, "billing_address": true, "cancellation_policy": true,
	"cancellation_policy_disclosure": true, "cancellation_rebuttal": true, "customer_communication": true,
	"customer_email_address": true, "customer_name": true, "customer_purchase_ip": true,
	"customer_signature": true, "duplicate_charge_documentation": true, "duplicate_charge_explanation": true,
	"duplicate_charge_id": true, "product_description": true, "receipt": true, "refund_policy": true,
	"refund_policy_disclosure": true, "refund_refusal_explanation": true, "service_date": true,
	"service_documentation": true, "shipping_address": true, "shipping_carrier": true, "shipping_date": true,
	"shipping_documentation": true, "shipping_tracking_number": true, "uncategorized_file": true,
	"uncategorized_text": true,
}

// StageDisputeEvidence saves evidence on a dispute with submit=false. Stripe
// submits by default, and submission is final, so this connector never
// submits: that takes a second human decision outside Countersign.
func (c *Client) StageDisputeEvidence(ctx context.Context, disputeID string, evidence map[string]string, idemKey string) (connector.Receipt, error) {
	const op = "stage dispute evidence"
	if err := checkEvidence(disputeID, evidence, idemKey); err != nil {
		return connector.Receipt{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return connector.Receipt{}, err
	}
	params := &sdk.DisputeUpdateParams{Submit: sdk.Bool(false)}
	keys := make([]string, 0, len(evidence))
	for k, v := range evidence {
		params.AddExtra("evidence["+k+"]", v)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	params.SetIdempotencyKey(idemKey)
	d, err := c.api.V1Disputes.Update(ctx, disputeID, params)
	if err != nil {
		return connector.Receipt{}, classify(op, slot, err)
	}
	raw, _ := json.Marshal(map[string]any{"id": d.ID, "object": "dispute", "status": d.Status, "fields": keys})
	return connector.Receipt{
		ExternalID: d.ID,
		Summary:    fmt.Sprintf("dispute %s evidence staged (%d fields, not submitted), status %s", d.ID, len(keys), d.Status),
		Raw:        raw,
	}, nil
}

func checkEvidence(disputeID string, evidence map[string]string, idemKey string) error {
	problem := ""
	switch {
	case checkID("stage dispute evidence", disputeID) != nil:
		problem = "not a Stripe dispute id"
	case len(evidence) == 0:
		problem = "no evidence given"
	case idemKey == "" || len(idemKey) > 255:
		problem = "idempotency key must be 1-255 characters"
	}
	for k := range evidence {
		if problem == "" && !evidenceFields[k] {
			problem = "unknown evidence field " + k
		}
	}
	if problem == "" {
		return nil
	}
	return &connector.Error{Connector: name, Op: "stage dispute evidence", Code: "invalid_params",
		Message: problem, Permanent: true}
}
