package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The params each (connector, operation) reads from actions.params, as
// internal/approval plans them. Params never carry card, bank or tax numbers;
// recipients are verified before planning.

// RefundParams: stripe/refund. Amount is in minor units.
type RefundParams struct {
	Charge        string            `json:"charge,omitempty"`
	PaymentIntent string            `json:"payment_intent,omitempty"`
	Amount        int64             `json:"amount"`
	Currency      string            `json:"currency,omitempty"`
	Reason        string            `json:"reason,omitempty"` // duplicate | fraudulent | requested_by_customer
	Metadata      map[string]string `json:"metadata,omitempty"`
}

// EvidenceParams: stripe/stage_evidence (never submitted, whatever "submit" says).
// Documents names files rendered and uploaded to Stripe's files host first
// ("call_transcript": the redacted transcript as a PDF, staged as
// customer_communication).
type EvidenceParams struct {
	Dispute   string            `json:"dispute"`
	Evidence  map[string]string `json:"evidence"`
	Documents []string          `json:"documents,omitempty"`
}

// AlertParams: slack/alert. Channel defaults to the configured alert channel.
type AlertParams struct {
	Channel     string `json:"channel,omitempty"`      // channel id, resolved when the plan was made
	ChannelName string `json:"channel_name,omitempty"` // as configured, for people
	Kind        string `json:"kind,omitempty"`         // alert kind (COUNTERSIGN_SLACK_CHANNELS) when Channel is empty
	Text        string `json:"text"`
}

// TicketParams: zendesk/ticket. Mode "create" (default) opens a ticket; "comment"
// adds Body to TicketID.
type TicketParams struct {
	Mode     string          `json:"mode,omitempty"`
	TicketID json.RawMessage `json:"ticket_id,omitempty"` // number or numeric string
	Subject  string          `json:"subject,omitempty"`
	Body     string          `json:"body,omitempty"` // plans before reply/note: the internal note
	Internal bool            `json:"internal,omitempty"`
	Public   bool            `json:"public,omitempty"` // comments only
	// Reply is the public reply to the requester, rendered from a reviewed template;
	// only set when RequesterEmail is a verified customer address.
	Reply string `json:"reply,omitempty"`
	// Note is the internal note for agents (case, call, what was done).
	Note string `json:"note,omitempty"`
	// Status is the ticket's status once the action ran: open, pending or solved.
	Status         string   `json:"status,omitempty"`
	RequesterEmail string   `json:"requester_email,omitempty"` // verified customer; empty: internal ticket
	Priority       string   `json:"priority,omitempty"`
	Tags           []string `json:"tags,omitempty"`
	// ExternalID is the call id in plans made before tickets were keyed by the
	// action; it is not used as the ticket's external_id (not unique per case).
	ExternalID string `json:"external_id,omitempty"`
}

// noteText is the internal note, from older plans' Body when Note is empty.
func (p TicketParams) noteText() string {
	if p.Note != "" {
		return p.Note
	}
	return p.Body
}

func (p TicketParams) ticketID() (int64, error) {
	s := strings.Trim(string(p.TicketID), `"`)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, permanent("params", "invalid_params", "the ticket to comment on is not a Zendesk ticket number")
	}
	return id, nil
}

// EmailParams: email/send_document. The message is rendered from the document type;
// the document itself is read from Stripe when the email is sent (documents.go).
type EmailParams struct {
	To string `json:"to"`
	// DocumentType: invoice (Stripe's PDF attached) | receipt (a PDF of the
	// charge's receipt) | payment_link (the open invoice's hosted page, linked) |
	// refund_confirmation (with Attach "credit_note": the case's credit note PDF).
	// Anything else (statement, tax_form, document) is refused: Stripe holds none.
	DocumentType string `json:"document_type"`
	DocumentRef  string `json:"document_ref,omitempty"`
	Invoice      string `json:"invoice,omitempty"` // in_...: the invoice, when the plan knew its id
	Charge       string `json:"charge,omitempty"`  // ch_...: the receipt's charge
	Attach       string `json:"attach,omitempty"`  // "credit_note": the credit note this case's plan issues
	Amount       int64  `json:"amount,omitempty"`
	Currency     string `json:"currency,omitempty"`
	Case         string `json:"case,omitempty"`
	Subject      string `json:"subject,omitempty"` // overrides the rendered subject
	Text         string `json:"text,omitempty"`    // overrides the rendered body
	// Summary is the customer-facing handoff (internal/handoff), added to the body.
	Summary string `json:"summary,omitempty"`
}

// UploadParams: drive/upload. The file is the document as Stripe holds it (see
// EmailParams.DocumentType; credit_note: the case's credit note); it goes to
// customers/<cus_...> under the configured Drive folder. Folder is the label the
// approver read ("Countersign/customers/cus_..."; older plans: "Countersign/resends").
type UploadParams struct {
	DocumentType string `json:"document_type"`
	DocumentRef  string `json:"document_ref"`
	Invoice      string `json:"invoice,omitempty"`
	Charge       string `json:"charge,omitempty"`
	Folder       string `json:"folder,omitempty"`
	Case         string `json:"case,omitempty"`
	// Description is the internal handoff summary (internal/handoff), written
	// into the stored file beside the document.
	Description string `json:"description,omitempty"`
}

// CreditNoteParams: stripe/credit_note. It documents the refund the case's
// stripe/refund action made (read from that action's receipt) on a paid invoice.
type CreditNoteParams struct {
	Invoice       string `json:"invoice"`
	InvoiceNumber string `json:"invoice_number,omitempty"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency,omitempty"`
	Reason        string `json:"reason,omitempty"` // duplicate | fraudulent | order_change | product_unsatisfactory
	Memo          string `json:"memo,omitempty"`
	Case          string `json:"case,omitempty"`
}

// RowParams: sheets/append_row. The action id is column A; Values follow.
type RowParams struct {
	Sheet  string `json:"sheet,omitempty"` // sheet title, default "Queue"
	Values []any  `json:"values"`
}

func (p RowParams) cells() []string {
	out := make([]string, len(p.Values))
	for i, v := range p.Values {
		if v != nil {
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

func decodeParams(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return permanent("params", "invalid_params", fmt.Sprintf("the planned parameters cannot be read: %v", err))
	}
	return nil
}

// ticketMode reads a zendesk action's mode without failing.
func ticketMode(raw json.RawMessage) string {
	var p TicketParams
	_ = json.Unmarshal(raw, &p)
	if p.Mode == "" {
		return "create"
	}
	return p.Mode
}

// CorrectionParams: stripe/update_customer. Address is what the call's fields
// said; TaxID names a vault entry of the case's call by ref ("vat-12") and kind,
// never its value, which the worker opens only to send it to Stripe. Plans
// without Address and TaxID are a manual step (finance edits Stripe).
type CorrectionParams struct {
	Customer string            `json:"customer"`
	Case     string            `json:"case"`
	Address  map[string]string `json:"address,omitempty"` // line1, line2, city, postal_code, state, country
	TaxID    *VaultRef         `json:"tax_id,omitempty"`
}

// VaultRef points at one kept value: its kind ("vat", "ein") and vault ref.
type VaultRef struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
}
