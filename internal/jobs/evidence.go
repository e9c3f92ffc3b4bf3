package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/textpdf"
)

// SubmitParams: stripe/submit_evidence. DueBy is the dispute's evidence deadline
// (RFC 3339) as planned; past it the submission is refused, not attempted.
type SubmitParams struct {
	Dispute string `json:"dispute"`
	DueBy   string `json:"due_by"`
}

// stageEvidence uploads the documents the plan names to Stripe's files host and
// stages them with the text evidence, submit=false.
func (s *Service) stageEvidence(ctx context.Context, a *action) (connector.Receipt, error) {
	var p EvidenceParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	c := s.conns.Stripe
	if c == nil {
		return connector.Receipt{}, missing("Stripe")
	}
	evidence := map[string]string{}
	for k, v := range p.Evidence {
		evidence[k] = v
	}
	for _, doc := range p.Documents {
		if doc != "call_transcript" {
			return connector.Receipt{}, permanent("stage evidence", "invalid_params", "unknown evidence document "+doc)
		}
		var transcript string
		err := s.db.Gorm.WithContext(ctx).Raw(`SELECT cl.transcript_text FROM cases c JOIN calls cl ON cl.id = c.call_id
			WHERE c.id = ?`, a.CaseID).Scan(&transcript).Error
		if err != nil {
			return connector.Receipt{}, fmt.Errorf("jobs: transcript of case %d: %w", a.CaseID, err)
		}
		id, err := c.UploadEvidenceFile(ctx, stripe.Upload{Name: "call-transcript.pdf",
			Data: textPDF("Call transcript (redacted)", transcript)}, a.IdempotencyKey+":transcript")
		if err != nil {
			return connector.Receipt{}, err
		}
		evidence["customer_communication"] = id
	}
	return c.StageDisputeEvidence(ctx, p.Dispute, evidence, a.IdempotencyKey)
}

// submitEvidence submits the staged evidence, only before the planned due date.
func (s *Service) submitEvidence(ctx context.Context, a *action) (connector.Receipt, error) {
	var p SubmitParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	if s.conns.Stripe == nil {
		return connector.Receipt{}, missing("Stripe")
	}
	due, err := time.Parse(time.RFC3339, p.DueBy)
	if err != nil {
		return connector.Receipt{}, permanent("submit evidence", "invalid_params", "the planned due date cannot be read")
	}
	if !s.opts.Now().Before(due) {
		return connector.Receipt{}, permanent("submit evidence", "past_due",
			"the evidence due date "+due.UTC().Format(time.RFC3339)+" has passed: Stripe no longer accepts evidence for dispute "+p.Dispute)
	}
	return s.conns.Stripe.SubmitDisputeEvidence(ctx, p.Dispute, a.IdempotencyKey)
}

// textPDF renders text as a one-page PDF (Stripe takes dispute evidence as PDF,
// JPEG or PNG only).
func textPDF(title, text string) []byte { return textpdf.Render(title, text, "Countersign") }
