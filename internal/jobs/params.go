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
	Channel string `json:"channel,omitempty"`
	Text    string `json:"text"`
}

// TicketParams: zendesk/ticket. Mode "create" (default) opens a ticket; "comment"
// adds Body to TicketID.
type TicketParams struct {
	Mode           string          `json:"mode,omitempty"`
	TicketID       json.RawMessage `json:"ticket_id,omitempty"` // number or numeric string
	Subject        string          `json:"subject,omitempty"`
	Body           string          `json:"body"`
	Internal       bool            `json:"internal,omitempty"`
	Public         bool            `json:"public,omitempty"` // comments only
	RequesterEmail string          `json:"requester_email,omitempty"`
	Priority       string          `json:"priority,omitempty"`
	Tags           []string        `json:"tags,omitempty"`
	ExternalID     string          `json:"external_id,omitempty"` // the call id; Find looks tickets up by it
}

func (p TicketParams) ticketID() (int64, error) {
	s := strings.Trim(string(p.TicketID), `"`)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, permanent("params", "invalid_params", "the ticket to comment on is not a Zendesk ticket number")
	}
	return id, nil
}

// EmailParams: email/send_document. The message is rendered from the document type.
type EmailParams struct {
	To           string `json:"to"`
	DocumentType string `json:"document_type"` // refund_confirmation | receipt | invoice | document
	DocumentRef  string `json:"document_ref,omitempty"`
	Amount       int64  `json:"amount,omitempty"`
	Currency     string `json:"currency,omitempty"`
	Case         string `json:"case,omitempty"`
	Subject      string `json:"subject,omitempty"` // overrides the rendered subject
	Text         string `json:"text,omitempty"`    // overrides the rendered body
}

// UploadParams: drive/upload. Folder is a label ("Countersign/resends"); the file
// goes to the configured Drive folder.
type UploadParams struct {
	DocumentType string `json:"document_type"`
	DocumentRef  string `json:"document_ref"`
	Folder       string `json:"folder,omitempty"`
	Case         string `json:"case,omitempty"`
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
