// Package enrich checks what a caller claimed against the billing system right after
// a case is created (claim checks), and backfills calls that arrived without
// transcript or analysis.
//
// Invariants:
//   - Facts, the claim check, any routing change and the audit entry are written in
//     one transaction; a look-up failure writes nothing and the job retries.
//   - A refund whose charge is already refunded never reaches an approver as a
//     normal case: it moves to review / needs_info with the reason.
//   - A claim the billing system contradicts moves to the review queue with the
//     reason, whatever its confidence: an amount outside the tolerance
//     (COUNTERSIGN_CLAIM_TOLERANCE_BPS, 1% of the ledger amount by default; a
//     refund, dispute or promise for less than the ledger amount is partial,
//     not a mismatch), another currency, a customer or invoice that does not
//     match (another billing email, another customer id, records of different
//     customers, an invoice paid by another charge), or no ledger record for
//     what the call names (or, naming nothing, no customer with its email).
//   - A claim the billing system does not confirm (confidence < 0.6) moves to the
//     review queue; the suspected kind is kept.
//   - The confidence is the sum of its score lines (claim_checks.score), so the
//     case page can show every point and penalty.
//   - Only cases nobody has decided on yet (new, triaged) are re-routed.
package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/dialnexaapi"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/tokenmetrics"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/models"
)

// ReviewThreshold is the confidence below which a case goes to the review queue.
const ReviewThreshold = 0.6

// Claim is what the caller said, read from the case and its call.
type Claim struct {
	CaseID         int64
	Kind           string
	Status         string
	AmountMinor    *int64
	Currency       string
	AmountText     string // as extracted, for crypto amounts that are not money we move
	InvoiceNumber  string
	PaymentID      string
	SubscriptionID string
	CustomerID     string
	Email          string
	FiatAmount     string // claimed fiat value of a crypto amount, when extracted
	FiatCurrency   string
}

// Service runs claim checks and backfills.
type Service struct {
	DB           *gorm.DB
	Stripe       *stripe.Client       // nil: no billing look-ups
	TokenMetrics *tokenmetrics.Client // nil: crypto claims are not priced
	DialNexa     *dialnexaapi.Client  // nil: no backfill
	Ingest       *ingest.Service      // re-ingests backfilled calls (same code path)
	// Observe records each connector call (the jobs meter).
	Observe func(ctx context.Context, connector, op string, start time.Time, err error)
	Source  string // billing_facts.source: "stripe" or "sandbox"
	// AmountToleranceBPS is how far, in basis points of the ledger amount (at
	// least one minor unit), a claimed amount may differ and still match
	// (COUNTERSIGN_CLAIM_TOLERANCE_BPS); 0 means DefaultToleranceBPS.
	AmountToleranceBPS int64
}

// DefaultToleranceBPS is the amount tolerance of a claim check: 1%.
const DefaultToleranceBPS = 100

func (s *Service) toleranceBPS() int64 {
	if s.AmountToleranceBPS > 0 {
		return s.AmountToleranceBPS
	}
	return DefaultToleranceBPS
}

// Fact is one billing-system fact gathered for a claim.
type Fact struct {
	Source string
	stripe.Fact
}

// Mismatch is one disagreement between the claim and the facts.
type Mismatch struct {
	Field   string `json:"field"`
	Claimed string `json:"claimed"`
	Found   string `json:"found"`
}

// ScoreLine is one term of the confidence, shown on the case.
type ScoreLine struct {
	Points float64 `json:"points"`
	Why    string  `json:"why"`
}

// Result is the outcome of a check.
type Result struct {
	Facts      []Fact
	Confidence float64 // the sum of Score, within [0, 1]
	Score      []ScoreLine
	Verified   bool
	Mismatches []Mismatch
	// Route lists why the case must go to review whatever its confidence: an
	// amount outside tolerance, another customer's records, no ledger record.
	Route []string
	Notes []string
	// AlreadyRefunded names the refunded charge when a refund was claimed for one.
	AlreadyRefunded string
	// Review, when set, sends the case to review with this reason whatever the
	// confidence: the check could not be made (fail closed).
	Review string
}

func (s *Service) observe(ctx context.Context, op string, start time.Time, err error) {
	if s.Observe != nil {
		name := "stripe"
		if strings.HasPrefix(op, "tokenmetrics") {
			name = "tokenmetrics"
		}
		s.Observe(ctx, name, op, start, err)
	}
}

// Check runs the claim check of one case and stores its outcome.
func (s *Service) Check(ctx context.Context, caseID int64) error {
	c, err := s.loadClaim(ctx, caseID)
	if err != nil {
		return err
	}
	var res Result
	if isCrypto(c.Currency) {
		res, err = s.checkCrypto(ctx, c)
	} else {
		res, err = s.checkStripe(ctx, c)
	}
	if err != nil && !connector.IsPermanent(err) {
		return err
	}
	if err != nil {
		res.Notes = append(res.Notes, "look-up failed: "+err.Error())
	}
	return s.store(ctx, c, res)
}

func (s *Service) loadClaim(ctx context.Context, caseID int64) (Claim, error) {
	var k models.Case
	var call models.Call
	res := s.DB.WithContext(ctx).Where("id = ?", caseID).Limit(1).Find(&k)
	if res.Error == nil && res.RowsAffected == 1 {
		res = s.DB.WithContext(ctx).Where("id = ?", k.CallID).Limit(1).Find(&call)
	}
	if res.Error != nil {
		return Claim{}, fmt.Errorf("enrich: load case %d: %w", caseID, res.Error)
	}
	if res.RowsAffected == 0 {
		return Claim{}, &connector.Error{Connector: "countersign", Op: "enrich", Code: "not_found",
			Message: "case " + strconv.FormatInt(caseID, 10) + " does not exist", Permanent: true}
	}
	f := map[string]any{}
	_ = json.Unmarshal(call.Fields, &f)
	c := Claim{CaseID: caseID, Kind: k.Kind, Status: string(k.Status), AmountMinor: k.AmountMinor,
		Currency: strings.ToUpper(k.Currency), InvoiceNumber: str(f, "invoice_number"), PaymentID: str(f, "payment_id"),
		SubscriptionID: str(f, "subscription_id"), CustomerID: str(f, "customer_id"),
		Email: strings.ToLower(firstOf(call.CustomerEmail, str(f, "customer_email"))), AmountText: str(f, "amount"),
		FiatAmount: str(f, "fiat_amount"), FiatCurrency: strings.ToUpper(str(f, "fiat_currency"))}
	switch k.DestinationType {
	case "invoice":
		c.InvoiceNumber = firstOf(c.InvoiceNumber, k.DestinationRef)
	case "charge", "payment":
		c.PaymentID = firstOf(c.PaymentID, k.DestinationRef)
	case "subscription":
		c.SubscriptionID = firstOf(c.SubscriptionID, k.DestinationRef)
	case "customer":
		c.CustomerID = firstOf(c.CustomerID, k.DestinationRef)
	}
	return c, nil
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// store writes facts, the claim check and any routing change with an audit entry.
func (s *Service) store(ctx context.Context, c Claim, r Result) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		status, err := approval.CaseStatusTx(ctx, tx, c.CaseID)
		if err != nil {
			return fmt.Errorf("enrich: lock case %d: %w", c.CaseID, err)
		}
		for _, f := range r.Facts {
			if err := upsertFact(tx, c.CaseID, f); err != nil {
				return err
			}
		}
		mm, _ := json.Marshal(nonNil(r.Mismatches))
		sc, _ := json.Marshal(nonNilScore(r.Score))
		rt, _ := json.Marshal(nonNilStrings(r.Route))
		err = tx.Exec(`INSERT INTO claim_checks (case_id, checked_at, confidence, verified, mismatches, note, score, route)
			VALUES (?, now(), ?, ?, ?::jsonb, ?, ?::jsonb, ?::jsonb) ON CONFLICT (case_id) DO UPDATE SET checked_at = now(),
			confidence = EXCLUDED.confidence, verified = EXCLUDED.verified, mismatches = EXCLUDED.mismatches,
			note = EXCLUDED.note, score = EXCLUDED.score, route = EXCLUDED.route`,
			c.CaseID, r.Confidence, r.Verified, string(mm), strings.Join(r.Notes, "; "), string(sc), string(rt)).Error
		if err != nil {
			return fmt.Errorf("enrich: claim check of case %d: %w", c.CaseID, err)
		}
		route := ""
		if status == models.StatusNew || status == models.StatusTriaged {
			if route, err = reroute(ctx, tx, c, status, r); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, audit.Entry{Actor: "system:enrich", Action: "case.claim_checked", ObjectType: "case",
			ObjectID: strconv.FormatInt(c.CaseID, 10), Outcome: "ok", Summary: map[string]any{
				"confidence": r.Confidence, "verified": r.Verified, "mismatches": len(r.Mismatches),
				"facts": len(r.Facts), "routed": route}})
		if err != nil {
			return fmt.Errorf("enrich: audit: %w", err)
		}
		return nil
	})
}

// reroute moves the case to review (or needs_info) when the check says so: the
// kind and reasons change here, the status through the lifecycle owner (new or
// triaged -> needs_info, triaged -> new; a new case held for review stays new).
func reroute(ctx context.Context, tx *gorm.DB, c Claim, from models.CaseStatus, r Result) (string, error) {
	var reason string
	var status models.CaseStatus
	switch {
	case r.AlreadyRefunded != "" && (c.Kind == "refund" || c.Kind == "dispute"):
		reason, status = "claim check: charge "+r.AlreadyRefunded+" is already refunded", models.StatusNeedsInfo
	case r.Review != "":
		reason, status = r.Review, models.StatusNew
	case len(r.Route) > 0 && c.Kind != "review":
		reason, status = "claim check: "+strings.Join(r.Route, "; "), models.StatusNew
	case r.Confidence < ReviewThreshold && c.Kind != "review":
		reason, status = fmt.Sprintf("claim check: low confidence %.2f", r.Confidence), models.StatusNew
		if len(r.Mismatches) > 0 {
			reason += " (" + r.Mismatches[0].Field + " differs)"
		}
	default:
		return "", nil
	}
	kind := "review"
	var taken bool
	if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM cases WHERE call_id = (SELECT call_id FROM cases WHERE id = ?)
		AND kind = 'review' AND id <> ?)`, c.CaseID, c.CaseID).Scan(&taken).Error; err != nil {
		return "", fmt.Errorf("enrich: review case exists: %w", err)
	}
	if taken || c.Kind == "review" {
		kind = c.Kind // the call already has a review case: keep the kind, still hold the case
	}
	err := tx.Exec(`UPDATE cases SET kind = ?, suspected_kind = CASE WHEN suspected_kind = '' AND kind <> 'review'
			THEN kind ELSE suspected_kind END, reasons = reasons || to_jsonb(?::text), confidence = ?, updated_at = now()
		WHERE id = ?`, kind, reason, r.Confidence, c.CaseID).Error
	if err != nil {
		return "", fmt.Errorf("enrich: reroute case %d: %w", c.CaseID, err)
	}
	if status != from {
		err := approval.MoveCaseTx(ctx, tx, c.CaseID, status, audit.Entry{Actor: "system:enrich", Outcome: "ok",
			Summary: map[string]any{"reason": reason}})
		if err != nil {
			return "", fmt.Errorf("enrich: reroute case %d: %w", c.CaseID, err)
		}
	}
	return kind + "/" + string(status), nil
}

// factRow is the billing_facts row a looked-up fact becomes.
func factRow(caseID int64, f Fact) models.BillingFact {
	detail, _ := json.Marshal(f.Raw)
	if f.CustomerID != "" {
		m := map[string]any{}
		_ = json.Unmarshal(detail, &m)
		m["customer"] = f.CustomerID
		detail, _ = json.Marshal(m)
	}
	var amount *int64
	if f.AmountMinor != 0 || f.Object != "customer" && f.Object != "subscription" {
		a := f.AmountMinor
		amount = &a
	}
	return models.BillingFact{CaseID: caseID, Source: f.Source, Object: f.Object, ExternalID: f.ID, AmountMinor: amount,
		Currency: f.Currency, Status: f.Status, Refunded: f.Refunded, AmountRefunded: f.AmountRefunded,
		Disputed: f.Disputed, DueDate: f.DueDate, CustomerEmail: f.CustomerEmail, Detail: detail}
}

func upsertFact(tx *gorm.DB, caseID int64, f Fact) error {
	r := factRow(caseID, f)
	err := tx.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status,
			refunded, amount_refunded, disputed, due_date, customer_email, detail, looked_up_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, now())
		ON CONFLICT (case_id, source, object, external_id) DO UPDATE SET amount_minor = EXCLUDED.amount_minor,
			currency = EXCLUDED.currency, status = EXCLUDED.status, refunded = EXCLUDED.refunded,
			amount_refunded = EXCLUDED.amount_refunded, disputed = EXCLUDED.disputed, due_date = EXCLUDED.due_date,
			customer_email = EXCLUDED.customer_email, detail = EXCLUDED.detail, looked_up_at = now()`,
		r.CaseID, r.Source, r.Object, r.ExternalID, r.AmountMinor, r.Currency, r.Status, r.Refunded, r.AmountRefunded,
		r.Disputed, r.DueDate, r.CustomerEmail, string(r.Detail)).Error
	if err != nil {
		return fmt.Errorf("enrich: store %s fact: %w", f.Object, err)
	}
	return nil
}

func nonNilScore(s []ScoreLine) []ScoreLine {
	if s == nil {
		return []ScoreLine{}
	}
	return s
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNil(m []Mismatch) []Mismatch {
	if m == nil {
		return []Mismatch{}
	}
	return m
}

var errNoCall = errors.New("enrich: call not found")
