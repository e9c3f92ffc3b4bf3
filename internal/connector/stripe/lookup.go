package stripe

import (
	"context"
	"strings"
	"time"

	sdk "github.com/stripe/stripe-go/v82"
)

// Fact is the small, normalised view of one Stripe object that triage and
// approval policy need. Amounts are minor units; Currency is upper case.
// Raw holds a few object-specific fields (ids of related objects, invoice
// number, dispute reason), never card or bank details.
type Fact struct {
	Object         string // charge, payment_intent, invoice, subscription, customer, dispute
	ID             string
	AmountMinor    int64 // charge/payment intent/dispute amount; invoice amount due
	Currency       string
	Status         string
	Refunded       bool  // charge fully refunded
	AmountRefunded int64 // charge
	Disputed       bool  // charge, or any dispute
	DueDate        *time.Time
	CustomerID     string
	CustomerEmail  string
	Livemode       bool
	Raw            map[string]any
}

// GetCharge looks up a charge (ch_...).
func (c *Client) GetCharge(ctx context.Context, id string) (Fact, error) {
	return get(ctx, c, "get charge", id, func(ctx context.Context) (Fact, error) {
		ch, err := c.api.V1Charges.Retrieve(ctx, id, nil)
		if err != nil {
			return Fact{}, err
		}
		return chargeFact(ch), nil
	})
}

// GetPaymentIntent looks up a payment intent (pi_...).
func (c *Client) GetPaymentIntent(ctx context.Context, id string) (Fact, error) {
	return get(ctx, c, "get payment intent", id, func(ctx context.Context) (Fact, error) {
		pi, err := c.api.V1PaymentIntents.Retrieve(ctx, id, nil)
		if err != nil {
			return Fact{}, err
		}
		f := Fact{Object: "payment_intent", ID: pi.ID, AmountMinor: pi.Amount, Currency: upper(pi.Currency),
			Status: string(pi.Status), CustomerID: customerID(pi.Customer), CustomerEmail: pi.ReceiptEmail,
			Livemode: pi.Livemode, Raw: map[string]any{}}
		if pi.LatestCharge != nil {
			f.Raw["latest_charge"] = pi.LatestCharge.ID
		}
		return f, nil
	})
}

// GetInvoice looks up an invoice by id (in_...).
func (c *Client) GetInvoice(ctx context.Context, id string) (Fact, error) {
	return get(ctx, c, "get invoice", id, func(ctx context.Context) (Fact, error) {
		in, err := c.api.V1Invoices.Retrieve(ctx, id, nil)
		if err != nil {
			return Fact{}, err
		}
		return invoiceFact(in), nil
	})
}

// FindInvoiceByNumber searches invoices by their printed number ("INV-0042").
// It returns nil when none matches. Stripe's search index lags writes by up
// to a minute, which is fine for invoices customers already hold.
func (c *Client) FindInvoiceByNumber(ctx context.Context, number string) (*Fact, error) {
	return find(ctx, c, "find invoice", func(ctx context.Context) (*Fact, error) {
		p := &sdk.InvoiceSearchParams{}
		p.Query = "number:" + quote(number)
		p.Limit = sdk.Int64(1)
		for in, err := range c.api.V1Invoices.Search(ctx, p) {
			if err != nil {
				return nil, err
			}
			f := invoiceFact(in)
			return &f, nil
		}
		return nil, nil
	})
}

// GetSubscription looks up a subscription (sub_...).
func (c *Client) GetSubscription(ctx context.Context, id string) (Fact, error) {
	return get(ctx, c, "get subscription", id, func(ctx context.Context) (Fact, error) {
		s, err := c.api.V1Subscriptions.Retrieve(ctx, id, nil)
		if err != nil {
			return Fact{}, err
		}
		return Fact{Object: "subscription", ID: s.ID, Currency: upper(s.Currency), Status: string(s.Status),
			CustomerID: customerID(s.Customer), Livemode: s.Livemode,
			Raw: map[string]any{"cancel_at_period_end": s.CancelAtPeriodEnd}}, nil
	})
}

// GetCustomer looks up a customer (cus_...).
func (c *Client) GetCustomer(ctx context.Context, id string) (Fact, error) {
	return get(ctx, c, "get customer", id, func(ctx context.Context) (Fact, error) {
		cu, err := c.api.V1Customers.Retrieve(ctx, id, nil)
		if err != nil {
			return Fact{}, err
		}
		return customerFact(cu), nil
	})
}

// FindCustomerByEmail lists customers with exactly this email (the list
// endpoint, not search, so a customer created a moment ago is found) and
// returns the most recent, or nil.
func (c *Client) FindCustomerByEmail(ctx context.Context, email string) (*Fact, error) {
	return find(ctx, c, "find customer", func(ctx context.Context) (*Fact, error) {
		p := &sdk.CustomerListParams{Email: sdk.String(email)}
		p.Limit = sdk.Int64(1)
		for cu, err := range c.api.V1Customers.List(ctx, p) {
			if err != nil {
				return nil, err
			}
			f := customerFact(cu)
			return &f, nil
		}
		return nil, nil
	})
}

// GetDispute looks up a dispute (dp_...). DueDate is the evidence deadline.
func (c *Client) GetDispute(ctx context.Context, id string) (Fact, error) {
	return get(ctx, c, "get dispute", id, func(ctx context.Context) (Fact, error) {
		d, err := c.api.V1Disputes.Retrieve(ctx, id, nil)
		if err != nil {
			return Fact{}, err
		}
		return disputeFact(d), nil
	})
}

func get(ctx context.Context, c *Client, op, id string, fn func(context.Context) (Fact, error)) (Fact, error) {
	if err := checkID(op, id); err != nil {
		return Fact{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return Fact{}, err
	}
	f, err := fn(ctx)
	return f, classify(op, slot, err)
}

func find(ctx context.Context, c *Client, op string, fn func(context.Context) (*Fact, error)) (*Fact, error) {
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	f, err := fn(ctx)
	if err != nil {
		return nil, classify(op, slot, err)
	}
	return f, nil
}

func chargeFact(ch *sdk.Charge) Fact {
	email := ch.ReceiptEmail
	if email == "" && ch.BillingDetails != nil {
		email = ch.BillingDetails.Email
	}
	f := Fact{Object: "charge", ID: ch.ID, AmountMinor: ch.Amount, Currency: upper(ch.Currency),
		Status: string(ch.Status), Refunded: ch.Refunded, AmountRefunded: ch.AmountRefunded,
		Disputed: ch.Disputed, CustomerID: customerID(ch.Customer), CustomerEmail: email,
		Livemode: ch.Livemode, Raw: map[string]any{}}
	if ch.PaymentIntent != nil {
		f.Raw["payment_intent"] = ch.PaymentIntent.ID
	}
	return f
}

func invoiceFact(in *sdk.Invoice) Fact {
	return Fact{Object: "invoice", ID: in.ID, AmountMinor: in.AmountDue, Currency: upper(in.Currency),
		Status: string(in.Status), DueDate: unixPtr(in.DueDate), CustomerID: customerID(in.Customer),
		CustomerEmail: in.CustomerEmail, Livemode: in.Livemode,
		Raw: map[string]any{"number": in.Number, "amount_paid": in.AmountPaid, "amount_remaining": in.AmountRemaining}}
}

func customerFact(cu *sdk.Customer) Fact {
	return Fact{Object: "customer", ID: cu.ID, Currency: upper(cu.Currency), CustomerID: cu.ID,
		CustomerEmail: cu.Email, Livemode: cu.Livemode, Raw: map[string]any{"deleted": cu.Deleted}}
}

func disputeFact(d *sdk.Dispute) Fact {
	f := Fact{Object: "dispute", ID: d.ID, AmountMinor: d.Amount, Currency: upper(d.Currency),
		Status: string(d.Status), Disputed: true, Livemode: d.Livemode,
		Raw: map[string]any{"reason": string(d.Reason)}}
	if d.Charge != nil {
		f.Raw["charge"] = d.Charge.ID
	}
	if d.PaymentIntent != nil {
		f.Raw["payment_intent"] = d.PaymentIntent.ID
	}
	if d.EvidenceDetails != nil {
		f.DueDate = unixPtr(d.EvidenceDetails.DueBy)
		f.Raw["has_evidence"] = d.EvidenceDetails.HasEvidence
		f.Raw["submission_count"] = d.EvidenceDetails.SubmissionCount
	}
	return f
}

func customerID(cu *sdk.Customer) string {
	if cu == nil {
		return ""
	}
	return cu.ID
}

func upper(c sdk.Currency) string { return strings.ToUpper(string(c)) }

func unixPtr(sec int64) *time.Time {
	if sec == 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

// quote renders a value for Stripe's search query language.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
