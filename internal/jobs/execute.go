package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/gdrive"
	"github.com/countersign/countersign/internal/connector/slack"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/zendesk"
)

// Look-up threshold: Stripe keeps idempotency keys 24 h; after this gap an attempt
// first looks for its own earlier effect.
const stripeReconcileAfter = 12 * time.Hour

// blind reports whether a's call can neither carry an idempotency key nor be
// looked up afterwards (email: SMTP, and Gmail under the gmail.send scope, which
// may not list the mailbox; a Zendesk comment): such sends are at most once. The
// action's own effects row is the sent-record: a rerun after an answered error
// sends again, a rerun after an unclear attempt goes to a person.
func blind(a *action, c *Connectors) bool {
	return a.Connector == Email || (a.Connector == Zendesk && ticketMode(a.Params) == "comment")
}

// actionRef is the id other systems carry for a (metadata, column A, appProperties).
func actionRef(a *action) string { return "action-" + strconv.FormatInt(a.ID, 10) }

// MessageID is the deterministic Message-ID of action a's email.
func MessageID(actionID int64, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "<cs-" + strconv.FormatInt(actionID, 10) + "-" + hex.EncodeToString(sum[:8]) + "@countersign.local>"
}

func permanent(op, code, msg string) error {
	return &connector.Error{Connector: "countersign", Op: op, Code: code, Message: msg, Permanent: true}
}

func missing(name string) error {
	return permanent("configure", "not_configured", "the "+name+" connector is not configured")
}

// execute performs a's call, recording its latency and outcome.
func (s *Service) execute(ctx context.Context, a *action) (connector.Receipt, error) {
	start := time.Now()
	rc, err := s.dispatch(ctx, a)
	s.meter.Observe(ctx, a.Connector, a.Operation, a.Sandbox, start, err)
	return rc, err
}

func (s *Service) dispatch(ctx context.Context, a *action) (connector.Receipt, error) {
	switch a.Connector + "/" + a.Operation {
	case "stripe/refund":
		return s.refund(ctx, a)
	case "stripe/stage_evidence":
		return s.stageEvidence(ctx, a)
	case "stripe/submit_evidence":
		return s.submitEvidence(ctx, a)
	case "slack/alert":
		return s.slackAlert(ctx, a)
	case "zendesk/ticket":
		if ticketMode(a.Params) == "comment" {
			return s.ticketComment(ctx, a)
		}
		return s.ticket(ctx, a)
	case "stripe/credit_note":
		return s.creditNote(ctx, a)
	case "stripe/update_customer":
		return s.correctCustomer(ctx, a)
	case "email/send_document", "email/send":
		return s.sendEmail(ctx, a)
	case "drive/upload":
		return s.upload(ctx, a)
	case "sheets/append_row":
		return s.appendRow(ctx, a)
	}
	return connector.Receipt{}, permanent("dispatch", "unknown_operation",
		fmt.Sprintf("no worker knows %s %s", a.Connector, a.Operation))
}

func (s *Service) refund(ctx context.Context, a *action) (connector.Receipt, error) {
	var p RefundParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	c := s.conns.Stripe
	if c == nil {
		return connector.Receipt{}, missing("Stripe")
	}
	if strings.HasPrefix(a.ReceiptID, "re_") {
		// The refund exists and was pending: read it again, never create another.
		return c.GetRefund(ctx, a.ReceiptID)
	}
	if a.prior() && a.since(s.opts.Now()) > stripeReconcileAfter {
		// Stripe may have forgotten the key: find the earlier refund by metadata.
		found, err := c.FindRefundByMetadata(ctx, p.Charge+p.PaymentIntent, stripe.MetadataKey, a.IdempotencyKey)
		if found != nil {
			return *found, err
		}
		if err != nil {
			return connector.Receipt{}, err
		}
	}
	rc, err := c.Refund(ctx, stripe.RefundParams{Charge: p.Charge, PaymentIntent: p.PaymentIntent,
		AmountMinor: p.Amount, Currency: p.Currency, Reason: p.Reason, IdempotencyKey: a.IdempotencyKey,
		Metadata: refundMetadata(p.Metadata, a)})
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Permanent && ce.Status >= 500 {
		// Stripe replays the 5xx stored for this key: whether the refund was made is
		// unknown from the answer, so look for it before a person is asked.
		if found, ferr := c.FindRefundByMetadata(ctx, p.Charge+p.PaymentIntent, stripe.MetadataKey, a.IdempotencyKey); found != nil {
			return *found, ferr
		}
	}
	return rc, err
}

// refundMetadata keeps the planned metadata (ids only) and adds the action id.
func refundMetadata(planned map[string]string, a *action) map[string]string {
	m := map[string]string{}
	for k, v := range planned {
		m[k] = v
	}
	m["countersign_action"] = strconv.FormatInt(a.ID, 10)
	m["countersign_case"] = strconv.FormatInt(a.CaseID, 10)
	return m
}

func (s *Service) slackAlert(ctx context.Context, a *action) (connector.Receipt, error) {
	var p AlertParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	switch {
	case p.Channel == "":
		id, _, err := s.conns.SlackChannel(ctx, p.Kind)
		if err != nil {
			return connector.Receipt{}, err
		}
		p.Channel = id
	case !slack.IsChannelID(p.Channel) && s.conns.Slack != nil:
		// A plan stored before channels were stored as ids: resolve the name.
		id, err := s.conns.Slack.ChannelID(ctx, p.Channel)
		if err != nil {
			return connector.Receipt{}, err
		}
		p.Channel = id
	}
	return s.postSlack(ctx, p.Channel, p.Text, actionRef(a), a.prior(), a.CreatedAt)
}

// postSlack posts once per ref: a rerun first looks for the earlier message.
func (s *Service) postSlack(ctx context.Context, channel, text, ref string, rerun bool, since time.Time) (connector.Receipt, error) {
	c := s.conns.Slack
	if c == nil {
		return connector.Receipt{}, missing("Slack")
	}
	if rerun {
		rc, found, err := c.FindByActionID(ctx, channel, ref, since.Add(-time.Minute))
		if err != nil || found {
			return rc, err
		}
	}
	return c.PostAlert(ctx, slack.Alert{Channel: channel, Text: text, ActionID: ref})
}

func (s *Service) ticketComment(ctx context.Context, a *action) (connector.Receipt, error) {
	var p TicketParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	id, err := p.ticketID()
	if err != nil {
		return connector.Receipt{}, err
	}
	if s.conns.Zendesk == nil {
		return connector.Receipt{}, missing("Zendesk")
	}
	return s.conns.Zendesk.UpdateTicket(ctx, id, zendesk.TicketUpdate{Comment: p.noteText(), Public: p.Public,
		Priority: p.Priority, Status: p.Status})
}

// sendEmail sends a planned email to its recipient, who was verified before the
// plan could be approved. A document is read from Stripe first; when it cannot
// be, nothing is sent and the send mark is cleared.
func (s *Service) sendEmail(ctx context.Context, a *action) (connector.Receipt, error) {
	var p EmailParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	c := s.conns.Email
	if c == nil {
		return connector.Receipt{}, missing("email")
	}
	var doc *document
	kind := p.DocumentType
	if kind == "refund_confirmation" {
		kind = p.Attach // "" or credit_note
	}
	if kind != "" {
		d, err := s.loadDocument(ctx, a, kind, p.DocumentRef, p.Invoice, p.Charge)
		if err != nil {
			s.notSent(ctx, a)
			return connector.Receipt{}, err
		}
		doc = d
	}
	m := renderEmail(p, doc)
	m.From, m.MessageID = s.conns.MailFrom, MessageID(a.ID, a.IdempotencyKey)
	rc, err := c.Send(ctx, m)
	if err != nil {
		return rc, err
	}
	return withDocument(rc, doc), nil
}

// upload stores the document as Stripe holds it in the customer's Drive folder
// (customers/<cus_...> under the configured folder), with the id reserved before
// the first attempt.
func (s *Service) upload(ctx context.Context, a *action) (connector.Receipt, error) {
	var p UploadParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	if s.conns.Drive == nil {
		return connector.Receipt{}, missing("Drive")
	}
	if a.Effect.DriveFileID == "" {
		return connector.Receipt{}, &connector.Error{Connector: "countersign", Op: "upload", Code: "no_file_id",
			Message: "no Drive file id was reserved yet"}
	}
	doc, err := s.loadDocument(ctx, a, p.DocumentType, p.DocumentRef, p.Invoice, p.Charge)
	if err != nil {
		return connector.Receipt{}, err
	}
	if doc.Data == nil || doc.Customer == "" {
		return connector.Receipt{}, permanent("upload", "no_file", "Stripe's "+strings.ReplaceAll(doc.Kind, "_", " ")+" "+doc.ID+
			" has no file or no customer to file it under: nothing was stored")
	}
	root := s.conns.DriveFolder
	if root == "" {
		root = "root" // My Drive
	}
	folder, err := s.conns.Drive.FolderPath(ctx, root, "customers", doc.Customer)
	if err != nil {
		return connector.Receipt{}, err
	}
	rc, err := s.conns.Drive.Upload(ctx, gdrive.File{ID: a.Effect.DriveFileID, Name: doc.FileName, MimeType: doc.ContentType,
		Data: doc.Data, FolderID: folder, ActionID: actionRef(a), Description: p.Description,
		Properties: map[string]string{"stripe_object": doc.ID, "stripe_customer": doc.Customer, "countersign_case": strconv.FormatInt(a.CaseID, 10)}})
	if err != nil {
		return rc, err
	}
	return withDocument(rc, doc), nil
}

func (s *Service) appendRow(ctx context.Context, a *action) (connector.Receipt, error) {
	var p RowParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	if s.conns.Sheets == nil {
		return connector.Receipt{}, missing("Sheets")
	}
	rng := p.Sheet
	if rng == "" {
		rng = "Queue"
	}
	// AppendRow reads column A first: a rerun finds its own row.
	return s.conns.Sheets.AppendRow(ctx, s.conns.SheetsID, rng, actionRef(a), p.cells())
}
