package stripe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

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

// fileEvidenceFields take a file id (file_...) uploaded with purpose
// dispute_evidence; the rest take text.
var fileEvidenceFields = map[string]bool{"cancellation_policy": true, "customer_communication": true,
	"customer_signature": true, "duplicate_charge_documentation": true, "receipt": true, "refund_policy": true,
	"service_documentation": true, "shipping_documentation": true, "uncategorized_file": true}

// StageDisputeEvidence saves evidence on a dispute with submit=false. Stripe
// submits by default, and submission is final, so staging never submits:
// SubmitDisputeEvidence is its own approved action.
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

// SubmitDisputeEvidence submits the evidence staged on a dispute (submit=true,
// nothing else). Stripe then sends it to the card network: final, so the
// worker runs it only as its own approved action, before the due date.
func (c *Client) SubmitDisputeEvidence(ctx context.Context, disputeID, idemKey string) (connector.Receipt, error) {
	const op = "submit dispute evidence"
	if err := checkID(op, disputeID); err != nil {
		return connector.Receipt{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return connector.Receipt{}, err
	}
	params := &sdk.DisputeUpdateParams{Submit: sdk.Bool(true)}
	params.SetIdempotencyKey(idemKey)
	d, err := c.api.V1Disputes.Update(ctx, disputeID, params)
	if err != nil {
		return connector.Receipt{}, classify(op, slot, err)
	}
	raw, _ := json.Marshal(map[string]any{"id": d.ID, "object": "dispute", "status": d.Status,
		"submission_count": d.EvidenceDetails.SubmissionCount})
	return connector.Receipt{ExternalID: d.ID, Summary: fmt.Sprintf("dispute %s evidence submitted, status %s", d.ID, d.Status),
		Raw: raw}, nil
}

// Upload is one file for Stripe (dispute evidence: PDF, JPEG or PNG).
type Upload struct {
	Name string
	Data []byte
}

// UploadEvidenceFile uploads a file with purpose dispute_evidence to the files
// host (FilesURL, files.stripe.com) and returns its id (file_...), for a file
// evidence field.
func (c *Client) UploadEvidenceFile(ctx context.Context, f Upload, idemKey string) (string, error) {
	const op = "upload evidence file"
	if len(f.Data) == 0 || f.Name == "" || idemKey == "" || len(idemKey) > 255 {
		return "", &connector.Error{Connector: name, Op: op, Code: "invalid_params",
			Message: "a file needs a name, content and an idempotency key", Permanent: true}
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return "", err
	}
	params := &sdk.FileCreateParams{Purpose: sdk.String(string(sdk.FilePurposeDisputeEvidence)),
		FileReader: bytes.NewReader(f.Data), Filename: sdk.String(f.Name)}
	params.SetIdempotencyKey(idemKey)
	file, err := c.api.V1Files.Create(ctx, params)
	if err != nil {
		return "", classify(op, slot, err)
	}
	return file.ID, nil
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
	for k, v := range evidence {
		switch {
		case problem != "":
		case fileEvidenceFields[k] && !strings.HasPrefix(v, "file_"):
			problem = "evidence field " + k + " takes an uploaded file id"
		case !fileEvidenceFields[k] && !evidenceFields[k]:
			problem = "unknown evidence field " + k
		}
	}
	if problem == "" {
		return nil
	}
	return &connector.Error{Connector: name, Op: "stage dispute evidence", Code: "invalid_params",
		Message: problem, Permanent: true}
}
