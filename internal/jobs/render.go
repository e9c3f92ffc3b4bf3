package jobs

import (
	"github.com/countersign/countersign/internal/connector/email"
	"github.com/countersign/countersign/internal/connector/stripe"
)

// renderEmail writes the customer email for a planned document send, with doc
// (read from Stripe) attached or linked. It names the document, its number and
// amount only: no card, bank or tax details ever reach a template.
func renderEmail(p EmailParams, doc *document) email.Message {
	m := email.Message{To: p.To, Subject: p.Subject, Text: p.Text}
	subject, text := defaultEmail(p, doc)
	if m.Subject == "" {
		m.Subject = subject
	}
	if m.Text == "" {
		m.Text = text
	}
	if doc != nil && doc.Data != nil {
		m.Attachments = []email.Attachment{{Name: doc.FileName, ContentType: doc.ContentType, Data: doc.Data}}
	}
	if p.Summary != "" {
		m.Text += "\n\n" + p.Summary
	}
	return m
}

func defaultEmail(p EmailParams, doc *document) (subject, text string) {
	if p.DocumentType == "refund_confirmation" {
		amount := stripe.FormatMinor(p.Amount, p.Currency)
		text = "Hello,\n\nWe have refunded " + amount + " to your original payment method. " +
			"Depending on your bank it can take 5 to 10 business days to appear."
		if doc != nil {
			text += "\n\nAttached is credit note " + doc.Number + ", which records the refund against your invoice."
		}
		return "Your refund of " + amount, text + "\n\nBilling team"
	}
	if doc == nil { // never sent: loadDocument refuses what Stripe does not hold
		return "", ""
	}
	number, amount := orRef(doc.Number, doc.ID), stripe.FormatMinor(doc.AmountMinor, doc.Currency)
	switch doc.Kind {
	case "payment_link":
		return "Invoice " + number + ": your payment link", "Hello,\n\nAs agreed on your call, invoice " + number + " has " +
			stripe.FormatMinor(doc.LeftMinor, doc.Currency) + " left to pay. You can pay it securely here:\n\n" + doc.HostedURL +
			"\n\nThe page also lets you download the invoice.\n\nBilling team"
	case "receipt":
		text = "Hello,\n\nAs requested on your call, attached is your receipt " + number + " for your payment of " + amount + "."
		if doc.HostedURL != "" {
			text += "\nYou can also view the receipt online: " + doc.HostedURL
		}
		return "Your receipt " + number, text + "\n\nBilling team"
	}
	return "Your invoice " + number, "Hello,\n\nAs requested on your call, attached is your invoice " + number +
		" (" + amount + ").\n\nBilling team"
}
