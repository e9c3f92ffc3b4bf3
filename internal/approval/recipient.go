package approval

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/models"
)

// Recipient is where a planned email goes and whether that address may receive
// customer documents.
type Recipient struct {
	Requested  string // the address the caller (or an edit) asked for
	OnFile     string // the billing email on file
	To         string // the address the plan uses; "" when there is none
	Verified   bool
	Method     string // "billing email on file", "call_back", "email_confirmation"
	VerifiedAt time.Time
}

// Verification methods a support lead may record.
var Methods = []string{"call_back", "email_confirmation"}

// resolveRecipient picks the address for kind: a document goes where it was asked
// to go; a refund confirmation goes to the billing email on file unless an edit said
// otherwise. The billing email on file is verified by definition; any other address
// only through verified_recipients.
func resolveRecipient(ctx context.Context, tx *gorm.DB, c *caseData, facts []models.BillingFact) (Recipient, error) {
	r := Recipient{Requested: normEmail(c.RecipientEmail)}
	if r.Requested == "" {
		r.Requested = normEmail(c.Call.CustomerEmail)
	}
	r.OnFile, _ = onFileEmail(facts)
	switch {
	case c.RecipientEmail != "":
		r.To = normEmail(c.RecipientEmail)
	case c.Kind == "document_resend" && r.Requested != "":
		r.To = r.Requested
	case r.OnFile != "":
		r.To = r.OnFile
	default:
		r.To = r.Requested
	}
	if r.To == "" {
		return r, nil
	}
	return verifyAddress(ctx, tx, c, facts, r)
}

// verifyAddress fills r's verification of r.To: the billing email on file, or a row
// of verified_recipients for the customer.
func verifyAddress(ctx context.Context, tx *gorm.DB, c *caseData, facts []models.BillingFact, r Recipient) (Recipient, error) {
	r.Verified, r.Method, r.VerifiedAt = false, "", time.Time{}
	onFile, seen := onFileEmail(facts)
	if r.To != "" && r.To == onFile {
		r.Verified, r.Method, r.VerifiedAt = true, "billing email on file", seen.UTC()
		return r, nil
	}
	key := c.customerKey()
	if key == "" || r.To == "" {
		return r, nil
	}
	var rows []struct {
		Method     string    `gorm:"column:method"`
		VerifiedAt time.Time `gorm:"column:verified_at"`
	}
	err := tx.WithContext(ctx).Raw(`SELECT method, verified_at FROM verified_recipients WHERE customer_key = ? AND email = ?`,
		key, r.To).Scan(&rows).Error
	if err != nil {
		return r, fmt.Errorf("approval: verified recipients: %w", err)
	}
	if len(rows) == 1 {
		r.Verified, r.Method, r.VerifiedAt = true, rows[0].Method, rows[0].VerifiedAt.UTC()
	}
	return r, nil
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// MaskEmail shows the first character of the local part and the whole domain:
// "jane@example.com" -> "j•••@example.com".
func MaskEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		if s == "" {
			return ""
		}
		return "•••"
	}
	r := []rune(local)
	return string(r[0]) + "•••@" + domain
}

// describe is the verification clause of an email action's description.
func (r Recipient) describe() string {
	if !r.Verified {
		return "NOT verified: waiting for a support lead to verify it"
	}
	at := ""
	if !r.VerifiedAt.IsZero() {
		at = " " + r.VerifiedAt.UTC().Format("2006-01-02")
	}
	method := r.Method
	switch method {
	case "call_back":
		method = "call-back"
	case "email_confirmation":
		method = "email confirmation"
	}
	return "verified" + at + " via " + method
}

func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " \t\r\n<>,;\"'") &&
		len(s) <= 254 && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
