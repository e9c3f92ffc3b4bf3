package jobs

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
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

// textPDF renders text as a minimal one-font PDF (Stripe takes dispute evidence as
// PDF, JPEG or PNG only). Characters outside printable ASCII become "?".
func textPDF(title, text string) []byte {
	lines := []string{title, ""}
	for _, ln := range strings.Split(text, "\n") {
		for len(ln) > 95 {
			lines, ln = append(lines, ln[:95]), ln[95:]
		}
		lines = append(lines, ln)
	}
	var content bytes.Buffer
	content.WriteString("BT /F1 9 Tf 40 800 Td 12 TL\n")
	for i, ln := range lines {
		if i > 0 && i%64 == 0 {
			break // one page: the full transcript stays on the case page
		}
		content.WriteString("(" + pdfEscape(ln) + ") Tj T*\n")
	}
	content.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func pdfEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteRune('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
