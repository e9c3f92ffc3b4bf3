// Package email sends approved follow-ups and document resends, through the
// Gmail API (GmailSender) or any SMTP relay (SMTPSender).
//
// Neither offers an idempotency key. Every message carries a deterministic
// Message-ID derived from the action; before a rerun the worker calls Find and
// skips the send when the earlier message is there. SMTP cannot look back, so
// there the sent-marker written with the job's completion is the only guard.
package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/countersign/countersign/internal/connector"
)

// Sender sends one message. Neither sender can look a message up afterwards (Gmail
// runs with the gmail.send scope only, which does not allow users.messages.list), so
// an attempt whose outcome is unknown is settled by a person (internal/jobs: blind).
type Sender interface {
	// Send sends m. The receipt's ExternalID is the provider's id (Gmail) or
	// the Message-ID (SMTP).
	Send(ctx context.Context, m Message) (connector.Receipt, error)
}

// Message is one outgoing email to a single verified recipient.
type Message struct {
	From    string // "Countersign <billing@acme.com>" or a bare address
	To      string // one verified recipient
	Subject string
	Text    string // plain-text body
	// MessageID is deterministic per action, e.g.
	// "<action-42.call_abc@countersign.local>"; angle brackets optional.
	MessageID   string
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string
	ContentType string // application/octet-stream when empty
	Data        []byte
}

// Build renders m as RFC 5322 bytes with m's Message-ID.
func Build(m Message) ([]byte, error) {
	msg, _, err := newMsg(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("email: render: %w", err)
	}
	return buf.Bytes(), nil
}

// newMsg builds the go-mail message for m and returns it with the bare
// Message-ID (no angle brackets).
func newMsg(m Message) (*mail.Msg, string, error) {
	id, err := normalizeID(m.MessageID)
	if err != nil {
		return nil, "", err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, "", fmt.Errorf("email: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, "", fmt.Errorf("email: to address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(ct))); err != nil {
			return nil, "", fmt.Errorf("email: attach %q: %w", a.Name, err)
		}
	}
	return msg, id, nil
}

// normalizeID strips the angle brackets and rejects ids that could break the
// header or the Gmail search: it must be local@domain without spaces.
func normalizeID(id string) (string, error) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	local, domain, ok := strings.Cut(id, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(id, " \t\r\n<>\"") {
		return "", errors.New("email: message id must look like <local@domain>")
	}
	return id, nil
}

func invalid(connectorName, op string, err error) *connector.Error {
	return &connector.Error{Connector: connectorName, Op: op, Code: "invalid_message", Message: err.Error(), Permanent: true}
}
