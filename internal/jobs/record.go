package jobs

import (
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/handoff"
)

// pointRecordURL makes the case's record URL the destination object's page once
// an action created it: the Stripe object (a refund, the customer updated) wins;
// a Zendesk ticket is the record only while the record URL still points at the
// case itself.
func (s *Service) pointRecordURL(tx *gorm.DB, a *action, rc connector.Receipt) error {
	url, primary := s.destinationURL(a, rc)
	if url == "" {
		return nil
	}
	suffix := "/cases/" + strconv.FormatInt(a.CaseID, 10)
	err := tx.Exec(`UPDATE cases SET record_url = ?, updated_at = now() WHERE id = ?
		AND (? OR record_url = '' OR right(record_url, length(?)) = ?)`, url, a.CaseID, primary, suffix, suffix).Error
	if err != nil {
		return fmt.Errorf("jobs: record url of case %d: %w", a.CaseID, err)
	}
	return nil
}

// destinationURL is the page of what action a created or changed; primary
// marks the billing-system object.
func (s *Service) destinationURL(a *action, rc connector.Receipt) (string, bool) {
	switch a.Connector {
	case Stripe:
		// A credit note documents the refund, which stays the case's record.
		return handoff.StripeURL(s.conns.StripeDashboard, rc.ExternalID), a.Operation != "credit_note"
	case Zendesk:
		if s.conns.ZendeskURL == "" || rc.ExternalID == "" || ticketMode(a.Params) != "create" {
			return "", false
		}
		return s.conns.ZendeskURL + "/agent/tickets/" + rc.ExternalID, false
	}
	return "", false
}
