package jobs

import (
	"strings"

	"github.com/countersign/countersign/internal/connector/email"
	"github.com/countersign/countersign/internal/connector/stripe"
)

// renderEmail writes the customer email for a planned document send. It names the
// document and amount only: no card, bank or tax details ever reach a template.
func renderEmail(p EmailParams) email.Message {
	m := email.Message{To: p.To, Subject: p.Subject, Text: p.Text}
	if m.Subject == "" || m.Text == "" {
		subject, text := "", ""
		switch p.DocumentType {
		case "refund_confirmation":
			amount := stripe.FormatMinor(p.Amount, p.Currency)
			subject = "Your refund of " + amount
			text = "Hello,\n\nWe have refunded " + amount + " to your original payment method. " +
				"Depending on your bank it can take 5 to 10 business days to appear.\n\nBilling team"
		default:
			doc := strings.ReplaceAll(p.DocumentType, "_", " ")
			subject = "Your " + doc + " " + p.DocumentRef
			text = "Hello,\n\nAs requested on your call, attached is your " + doc + " " + p.DocumentRef + ".\n\nBilling team"
			name, content := renderDocument(p.DocumentType, p.DocumentRef, p.Case, "")
			m.Attachments = []email.Attachment{{Name: name, ContentType: "text/plain", Data: []byte(content)}}
		}
		if m.Subject == "" {
			m.Subject = subject
		}
		if m.Text == "" {
			m.Text = text
		}
	}
	if p.Summary != "" {
		m.Text += "\n\n" + p.Summary
	}
	return m
}

// renderDocument is the file sent or stored for a document reference. The billing
// system's own PDF is not fetched yet: the file names the document.
func renderDocument(docType, ref, caseID, description string) (name, content string) {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, docType+"-"+ref)
	content = strings.ReplaceAll(docType, "_", " ") + " " + ref + "\nCountersign case " + caseID + "\n"
	if description != "" {
		content += "\n" + description + "\n"
	}
	return safe + ".txt", content
}
