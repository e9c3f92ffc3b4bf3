package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/tokenmetrics"
)

// cryptoCodes are currencies priced through Token Metrics, not Stripe.
var cryptoCodes = map[string]bool{"BTC": true, "ETH": true, "USDC": true, "USDT": true, "SOL": true, "XRP": true,
	"DOGE": true, "LTC": true, "ADA": true, "DAI": true, "MATIC": true, "BNB": true}

func isCrypto(cur string) bool { return cryptoCodes[strings.ToUpper(cur)] }

// notFound reports a look-up of something that does not exist (a fact, not a failure).
func notFound(err error) bool {
	var ce *connector.Error
	return asConnErr(err, &ce) && (ce.Status == 404 || ce.Code == "resource_missing")
}

func asConnErr(err error, target **connector.Error) bool { return errors.As(err, target) }

type lookup struct {
	s     *Service
	ctx   context.Context
	res   *Result
	found map[string]bool
}

// get runs one look-up; a missing object becomes a note, other errors stop the check.
func (l *lookup) get(op, ref string, fn func() (*stripe.Fact, error)) (*stripe.Fact, error) {
	start := time.Now()
	f, err := fn()
	l.s.observe(l.ctx, op, start, err)
	switch {
	case notFound(err) || (err == nil && f == nil):
		l.res.Notes = append(l.res.Notes, op+" "+ref+": not found")
		return nil, nil
	case err != nil:
		return nil, err
	}
	l.res.Facts = append(l.res.Facts, Fact{Source: l.s.source(), Fact: *f})
	l.found[f.Object] = true
	return f, nil
}

// invoiceCharge adds the charge that paid the invoice (its invoice payments:
// Stripe's invoices no longer name it), so a refund, credit note or receipt of
// the invoice knows its charge. An invoice with nothing paid is not looked up;
// one whose charge cannot be told (not paid, paid in several parts) gets a note
// and no charge fact, so nothing is planned against a guessed charge.
func (l *lookup) invoiceCharge(c Claim, inv *stripe.Fact) error {
	if inv == nil || inv.Object != "invoice" {
		return nil
	}
	if paid, _ := inv.Raw["amount_paid"].(int64); inv.Status != "paid" && paid <= 0 {
		return nil
	}
	start := time.Now()
	p, err := l.s.Stripe.InvoiceCharge(l.ctx, inv.ID)
	l.s.observe(l.ctx, "find invoice charge", start, err)
	var ce *connector.Error
	switch {
	case asConnErr(err, &ce) && ce.Permanent:
		l.res.Notes = append(l.res.Notes, "charge of invoice "+inv.ID+": "+ce.Message)
		return nil
	case err != nil:
		return err
	}
	ch := p.Charge
	if p.Paid > 1 {
		l.res.Notes = append(l.res.Notes, fmt.Sprintf("invoice %s was paid in %d payments: charge %s is its default payment's (%s)",
			inv.ID, p.Paid, ch, stripe.FormatMinor(p.AmountMinor, p.Currency)))
	}
	// A duplicate-charge dispute names the second charge, which by definition
	// did not pay the invoice.
	if strings.HasPrefix(c.PaymentID, "ch_") && c.PaymentID != ch && c.Kind != "dispute" {
		l.res.Mismatches = append(l.res.Mismatches, Mismatch{"invoice", "paid by " + c.PaymentID, "paid by " + ch})
		l.res.route(-0.25, "invoice does not match: "+c.InvoiceNumber+" was paid by charge "+ch+", not "+c.PaymentID)
	}
	f, err := l.get("get charge", ch, func() (*stripe.Fact, error) { return ptr(l.s.Stripe.GetCharge(l.ctx, ch)) })
	if f != nil { // f.Raw is the stored fact's: its detail links the charge to the invoice
		f.Raw["invoice"], f.Raw["invoice_payment"] = inv.ID, p.Payment
	}
	return err
}

func (s *Service) source() string {
	if s.Source != "" {
		return s.Source
	}
	return "stripe"
}

func ptr(f stripe.Fact, err error) (*stripe.Fact, error) {
	if err != nil {
		return nil, err
	}
	return &f, nil
}

func (s *Service) checkStripe(ctx context.Context, c Claim) (Result, error) {
	var res Result
	if s.Stripe == nil {
		res.Confidence, res.Notes = 0.6, []string{"no billing system configured: claim not checked"}
		return res, nil
	}
	l := &lookup{s: s, ctx: ctx, res: &res, found: map[string]bool{}}
	var primary *stripe.Fact
	var err error
	refs := 0
	if ref := c.InvoiceNumber; ref != "" {
		refs++
		if strings.HasPrefix(ref, "in_") {
			primary, err = l.get("get invoice", ref, func() (*stripe.Fact, error) { return ptr(s.Stripe.GetInvoice(ctx, ref)) })
		} else {
			primary, err = l.get("find invoice", ref, func() (*stripe.Fact, error) { return s.Stripe.FindInvoiceByNumber(ctx, ref) })
		}
		if err != nil {
			return res, err
		}
		if err := l.invoiceCharge(c, primary); err != nil {
			return res, err
		}
	}
	if ref := c.PaymentID; ref != "" {
		refs++
		var f *stripe.Fact
		switch {
		case strings.HasPrefix(ref, "ch_") || strings.HasPrefix(ref, "py_"):
			f, err = l.get("get charge", ref, func() (*stripe.Fact, error) { return ptr(s.Stripe.GetCharge(ctx, ref)) })
		case strings.HasPrefix(ref, "pi_"):
			f, err = l.get("get payment intent", ref, func() (*stripe.Fact, error) { return ptr(s.Stripe.GetPaymentIntent(ctx, ref)) })
			if err == nil && f != nil {
				if ch, _ := f.Raw["latest_charge"].(string); ch != "" {
					_, err = l.get("get charge", ch, func() (*stripe.Fact, error) { return ptr(s.Stripe.GetCharge(ctx, ch)) })
				}
			}
		default:
			res.Notes = append(res.Notes, "payment reference "+ref+" is not a Stripe id")
		}
		if err != nil {
			return res, err
		}
		if primary == nil {
			primary = f
		}
	}
	if ref := c.SubscriptionID; strings.HasPrefix(ref, "sub_") {
		refs++
		f, err := l.get("get subscription", ref, func() (*stripe.Fact, error) { return ptr(s.Stripe.GetSubscription(ctx, ref)) })
		if err != nil {
			return res, err
		}
		if primary == nil {
			primary = f
		}
	}
	switch {
	case strings.HasPrefix(c.CustomerID, "cus_"):
		_, err = l.get("get customer", c.CustomerID, func() (*stripe.Fact, error) { return ptr(s.Stripe.GetCustomer(ctx, c.CustomerID)) })
	case c.Email != "":
		_, err = l.get("find customer", "by email", func() (*stripe.Fact, error) { return s.Stripe.FindCustomerByEmail(ctx, c.Email) })
	}
	if err != nil {
		return res, err
	}
	s.score(&res, c, primary, refs)
	return res, nil
}

// score turns what was found into a confidence (each point explained), the
// mismatches, and the reasons that route the case to review (see doc.go).
func (s *Service) score(res *Result, c Claim, primary *stripe.Fact, refs int) {
	add := func(points float64, why string) {
		res.Score = append(res.Score, ScoreLine{Points: points, Why: why})
	}
	switch {
	case primary != nil:
		add(0.5, "ledger record found: "+primary.Object+" "+primary.ID)
	case refs > 0:
		add(0.1, "the call names a record the billing system does not have")
		res.Route = append(res.Route, "no ledger record for "+c.named())
	case len(res.Facts) == 0:
		add(0.2, "the call names no invoice, charge or subscription")
		if s.Stripe != nil && c.Email != "" {
			res.Route = append(res.Route, "no ledger record: no customer with the caller's email")
		}
	default:
		add(0.2, "the call names no invoice, charge or subscription")
	}
	if primary != nil && c.AmountMinor != nil && primary.AmountMinor > 0 {
		s.scoreAmount(res, c, primary, add)
	}
	if primary != nil && c.Currency != "" && primary.Currency != "" {
		if strings.EqualFold(c.Currency, primary.Currency) {
			add(0.1, "currency matches ("+strings.ToUpper(primary.Currency)+")")
		} else {
			res.Mismatches = append(res.Mismatches, Mismatch{"currency", c.Currency, primary.Currency})
			res.route(-0.1, "currency "+c.Currency+" claimed, the ledger has "+strings.ToUpper(primary.Currency))
		}
	}
	emailOK := scoreCustomer(res, c, primary, add)
	for _, f := range res.Facts {
		if f.Object == "charge" && (f.Refunded || (f.AmountMinor > 0 && f.AmountRefunded >= f.AmountMinor)) {
			res.AlreadyRefunded = f.ID
		}
	}
	conf := 0.0
	for _, l := range res.Score {
		conf += l.Points
	}
	res.Confidence = math.Round(math.Max(0, math.Min(conf, 1))*100) / 100
	res.Verified = res.Confidence >= 0.9 && emailOK && len(res.Route) == 0
}

// scoreAmount compares the claimed amount with the ledger's within the
// tolerance; a refund, dispute or promise for less than the ledger amount is a
// partial one, not a mismatch.
func (s *Service) scoreAmount(res *Result, c Claim, primary *stripe.Fact, add func(float64, string)) {
	claimed, found := *c.AmountMinor, primary.AmountMinor
	tol := max(found*s.toleranceBPS()/10_000, 1)
	claimedText, foundText := stripe.FormatMinor(claimed, c.Currency), stripe.FormatMinor(found, primary.Currency)
	switch {
	case claimed == found:
		add(0.25, "amount matches ("+foundText+")")
	case claimed < found && partialKinds[c.Kind]:
		add(0.15, "partial amount: "+claimedText+" of "+foundText)
	case abs(claimed-found) <= tol:
		add(0.2, "amount within tolerance: "+claimedText+" claimed, "+foundText+" on the ledger")
	default:
		res.Mismatches = append(res.Mismatches, Mismatch{"amount", claimedText, foundText})
		res.route(-0.25, fmt.Sprintf("amount %s claimed, the ledger has %s (outside the %s tolerance)",
			claimedText, foundText, bpsText(s.toleranceBPS())))
	}
}

// partialKinds may claim less than the ledger amount without a mismatch.
var partialKinds = map[string]bool{"refund": true, "dispute": true, "collections": true}

// scoreCustomer checks that the records found belong to the caller: the email
// on file and the customer id the call named.
func scoreCustomer(res *Result, c Claim, primary *stripe.Fact, add func(float64, string)) bool {
	emailOK := false
	if c.Email != "" {
		var caller *Fact // the customer found by the caller's email
		for i, f := range res.Facts {
			if f.Object == "customer" && strings.EqualFold(f.CustomerEmail, c.Email) {
				caller = &res.Facts[i]
			}
		}
		switch {
		case primary == nil && caller != nil:
			emailOK = true
			add(0.35, "the caller's email is a known customer (no record to match)")
		case primary == nil:
		case primary.CustomerEmail != "" && strings.EqualFold(primary.CustomerEmail, c.Email),
			primary.CustomerEmail == "" && caller != nil && primary.CustomerID == caller.ID:
			emailOK = true
			add(0.15, "the caller's email is the billing email of "+primary.Object+" "+primary.ID)
		case primary.CustomerEmail != "" || (caller != nil && primary.CustomerID != ""):
			res.Mismatches = append(res.Mismatches, Mismatch{Field: "email", Claimed: "as given on the call", Found: "a different billing email on file"})
			res.route(-0.15, "customer does not match: "+primary.Object+" "+primary.ID+" belongs to a customer with another billing email")
		}
	}
	if primary != nil && strings.HasPrefix(c.CustomerID, "cus_") && primary.CustomerID != "" && primary.CustomerID != c.CustomerID {
		res.Mismatches = append(res.Mismatches, Mismatch{"customer", c.CustomerID, primary.CustomerID})
		res.route(-0.25, "customer does not match: "+primary.Object+" "+primary.ID+" belongs to "+primary.CustomerID+", not "+c.CustomerID)
	}
	owners := map[string]string{}
	for _, f := range res.Facts {
		if f.CustomerID != "" && (f.Object == "invoice" || f.Object == "charge" || f.Object == "subscription") {
			owners[f.CustomerID] = f.Object + " " + f.ID
		}
	}
	if len(owners) > 1 {
		res.Mismatches = append(res.Mismatches, Mismatch{"invoice", "one customer's records", "records of different customers"})
		res.route(-0.25, "invoice does not match: the records the call names belong to different customers")
	}
	return emailOK
}

// route records a reason to send the case to review, and what it costs the score.
func (r *Result) route(points float64, why string) {
	r.Score = append(r.Score, ScoreLine{Points: points, Why: why})
	r.Route = append(r.Route, why)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func bpsText(bps int64) string {
	return strconv.FormatFloat(float64(bps)/100, 'f', -1, 64) + "%"
}

// named says which records the claim names, for a routing reason.
func (c Claim) named() string {
	var parts []string
	for _, p := range []struct{ what, ref string }{{"invoice", c.InvoiceNumber}, {"payment", c.PaymentID}, {"subscription", c.SubscriptionID}} {
		if p.ref != "" {
			parts = append(parts, p.what+" "+p.ref)
		}
	}
	return strings.Join(parts, ", ")
}

// distinctTokens counts the different token ids among tokens.
func distinctTokens(tokens []tokenmetrics.Token) int {
	seen := map[int64]bool{}
	for _, t := range tokens {
		seen[t.ID] = true
	}
	return len(seen)
}

// GiveUp records that a claim check's look-ups kept failing (the job ran out of
// attempts): a crypto claim then goes to review with the reason, instead of staying
// unchecked where it could be approved on the caller's word.
func (s *Service) GiveUp(ctx context.Context, caseID int64, cause error) error {
	c, err := s.loadClaim(ctx, caseID)
	if err != nil {
		return err
	}
	if !isCrypto(c.Currency) {
		return nil
	}
	return s.store(ctx, c, Result{Confidence: 0, Notes: []string{"look-up failed: " + cause.Error()},
		Review: "claim check: Token Metrics could not price " + c.Currency + " after repeated attempts (" + cause.Error() + ")"})
}

// checkCrypto prices a crypto-denominated claim with Token Metrics and compares it
// with the claimed fiat value when the call gave one.
func (s *Service) checkCrypto(ctx context.Context, c Claim) (Result, error) {
	res := Result{Confidence: 0.3}
	if s.TokenMetrics == nil {
		res.Notes = append(res.Notes, "no price source configured for "+c.Currency)
		return res, nil
	}
	start := time.Now()
	tokens, err := s.TokenMetrics.Tokens(ctx, c.Currency, "")
	s.observe(ctx, "tokenmetrics tokens", start, err)
	if err != nil {
		return res, err
	}
	if len(tokens) == 0 {
		res.Confidence = 0.2
		res.Mismatches = append(res.Mismatches, Mismatch{"currency", c.Currency, "unknown token"})
		return res, nil
	}
	if n := distinctTokens(tokens); n > 1 {
		// Fail closed: pricing the first of several tokens could value the claim
		// with another coin's price.
		res.Confidence = 0.2
		res.Review = fmt.Sprintf("claim check: %d tokens share the symbol %s at Token Metrics; which one the caller meant is unknown", n, c.Currency)
		res.Mismatches = append(res.Mismatches, Mismatch{"currency", c.Currency, fmt.Sprintf("%d tokens with this symbol", n)})
		return res, nil
	}
	start = time.Now()
	price, err := s.TokenMetrics.Price(ctx, tokens[0].ID)
	s.observe(ctx, "tokenmetrics price", start, err)
	if err != nil {
		return res, err
	}
	res.Facts = append(res.Facts, Fact{Source: "tokenmetrics", Fact: stripe.Fact{Object: "price",
		ID: strconv.FormatInt(price.TokenID, 10), Currency: "USD", Status: "current",
		Raw: map[string]any{"symbol": price.Symbol, "name": price.Name, "price_usd": price.Decimal}}})
	amount, aerr := strconv.ParseFloat(c.AmountText, 64)
	fiat, ferr := strconv.ParseFloat(c.FiatAmount, 64)
	if aerr != nil || ferr != nil || fiat <= 0 || (c.FiatCurrency != "" && c.FiatCurrency != "USD") {
		// Fail closed: a price alone proves nothing about what the caller claims.
		res.Confidence = 0.4
		res.Review = "claim check: the caller stated no USD value for " + c.Currency + " " + c.AmountText +
			", so the amount cannot be checked against Token Metrics' price"
		return res, nil
	}
	value := amount * price.Float
	if math.Abs(value-fiat)/fiat <= 0.05 {
		res.Confidence = 0.85
		return res, nil
	}
	res.Confidence = 0.4
	res.Mismatches = append(res.Mismatches, Mismatch{"fiat value", fmt.Sprintf("%.2f USD", fiat),
		fmt.Sprintf("%.2f USD at %s per %s", value, price.Decimal, c.Currency)})
	return res, nil
}

// Backfill fetches a call that arrived without transcript or analysis from the
// DialNexa API and ingests it through the same code path as a webhook, as an
// analysis update (its own deduplication key).
func (s *Service) Backfill(ctx context.Context, callID int64) error {
	if s.DialNexa == nil || s.Ingest == nil {
		return nil
	}
	var dnID string
	if err := s.DB.WithContext(ctx).Raw(`SELECT dialnexa_id FROM calls WHERE id = ?`, callID).Scan(&dnID).Error; err != nil {
		return fmt.Errorf("enrich: load call %d: %w", callID, err)
	}
	if dnID == "" {
		return errNoCall
	}
	start := time.Now()
	body, err := s.DialNexa.GetCall(ctx, dnID)
	if s.Observe != nil {
		s.Observe(ctx, "dialnexa", "get call", start, err)
	}
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return fmt.Errorf("enrich: backfill body: %w", err)
	}
	call := json.RawMessage(body)
	if inner, ok := top["call"]; ok {
		call = inner
	}
	env, _ := json.Marshal(map[string]any{"event_type": "call.analysis_ready", "call": call})
	if _, err := s.Ingest.Ingest(ctx, env); err != nil {
		return fmt.Errorf("enrich: re-ingest call %d: %w", callID, err)
	}
	return nil
}
