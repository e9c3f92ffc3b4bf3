package triage

import (
	"fmt"
	"strings"
)

// Mapping maps the customer's DialNexa post-call analysis field names and
// intent values to Countersign's. Field names are the customer's choice on
// their DialNexa agent, so this is configuration, not code.
type Mapping struct {
	// Intent is the name of the enum field that says what the call was about.
	Intent string
	// IntentValues maps the intent field's values (compared lower-cased) to a
	// kind; a value mapped to "" ("other") falls through to the text rules.
	IntentValues map[string]Kind

	InvoiceNumber, PaymentID, Amount, Currency, RefundReason, DisputeReason,
	ReceiptNumber, PromisedNextStep, FollowUpDeadline, PromiseToPay,
	PromiseToPayDate, PromiseToPayAmount, ApprovalRequired, IssueResolved,
	CustomerEmailVerified, CustomerEmail, CustomerName, VIP, SubscriptionID,
	CustomerID string

	// The brief's capture list (see capture.go).
	TaxRegion, FinanceOwner, EscalationReason, CreditRequest, CallbackExpected,
	CRMLink, SupportTicketLink, PaymentLink string
}

// Our field names: the keys of [Result.Fields] and of [ParseMapping] entries.
const (
	FieldIntent                = "intent"
	FieldInvoiceNumber         = "invoice_number"
	FieldPaymentID             = "payment_id"
	FieldAmount                = "amount"
	FieldCurrency              = "currency"
	FieldRefundReason          = "refund_reason"
	FieldDisputeReason         = "dispute_reason"
	FieldReceiptNumber         = "receipt_number"
	FieldPromisedNextStep      = "promised_next_step"
	FieldFollowUpDeadline      = "follow_up_deadline"
	FieldPromiseToPay          = "promise_to_pay"
	FieldPromiseToPayDate      = "promise_to_pay_date"
	FieldPromiseToPayAmount    = "promise_to_pay_amount"
	FieldApprovalRequired      = "approval_required"
	FieldIssueResolved         = "issue_resolved"
	FieldCustomerEmailVerified = "customer_email_verified"
	FieldCustomerEmail         = "customer_email"
	FieldCustomerName          = "customer_name"
	FieldVIP                   = "vip"
	FieldSubscriptionID        = "subscription_id"
	FieldCustomerID            = "customer_id"
	FieldTaxRegion             = "tax_region"
	FieldFinanceOwner          = "finance_owner"
	FieldEscalationReason      = "escalation_reason"
	FieldCreditRequest         = "credit_request"
	FieldCallbackExpected      = "callback_expected"
	FieldCRMLink               = "crm_link"
	FieldSupportTicketLink     = "support_ticket_link"
	FieldPaymentLink           = "payment_link"
)

// valueType says how a mapped field's value is normalised.
type valueType int

const (
	textValue   valueType = iota // trimmed string
	numberValue                  // number text exactly as sent ("249.0")
	boolValue                    // true/false
)

// fieldSpec ties our field name to the Mapping struct field holding the
// customer's name for it. The default customer name equals ours.
type fieldSpec struct {
	name string
	typ  valueType
	ref  func(*Mapping) *string
}

var fieldSpecs = []fieldSpec{
	{FieldIntent, textValue, func(m *Mapping) *string { return &m.Intent }},
	{FieldInvoiceNumber, textValue, func(m *Mapping) *string { return &m.InvoiceNumber }},
	{FieldPaymentID, textValue, func(m *Mapping) *string { return &m.PaymentID }},
	{FieldAmount, numberValue, func(m *Mapping) *string { return &m.Amount }},
	{FieldCurrency, textValue, func(m *Mapping) *string { return &m.Currency }},
	{FieldRefundReason, textValue, func(m *Mapping) *string { return &m.RefundReason }},
	{FieldDisputeReason, textValue, func(m *Mapping) *string { return &m.DisputeReason }},
	{FieldReceiptNumber, textValue, func(m *Mapping) *string { return &m.ReceiptNumber }},
	{FieldPromisedNextStep, textValue, func(m *Mapping) *string { return &m.PromisedNextStep }},
	{FieldFollowUpDeadline, textValue, func(m *Mapping) *string { return &m.FollowUpDeadline }},
	{FieldPromiseToPay, boolValue, func(m *Mapping) *string { return &m.PromiseToPay }},
	{FieldPromiseToPayDate, textValue, func(m *Mapping) *string { return &m.PromiseToPayDate }},
	{FieldPromiseToPayAmount, numberValue, func(m *Mapping) *string { return &m.PromiseToPayAmount }},
	{FieldApprovalRequired, boolValue, func(m *Mapping) *string { return &m.ApprovalRequired }},
	{FieldIssueResolved, boolValue, func(m *Mapping) *string { return &m.IssueResolved }},
	{FieldCustomerEmailVerified, boolValue, func(m *Mapping) *string { return &m.CustomerEmailVerified }},
	{FieldCustomerEmail, textValue, func(m *Mapping) *string { return &m.CustomerEmail }},
	{FieldCustomerName, textValue, func(m *Mapping) *string { return &m.CustomerName }},
	{FieldVIP, boolValue, func(m *Mapping) *string { return &m.VIP }},
	{FieldSubscriptionID, textValue, func(m *Mapping) *string { return &m.SubscriptionID }},
	{FieldCustomerID, textValue, func(m *Mapping) *string { return &m.CustomerID }},
	{FieldTaxRegion, textValue, func(m *Mapping) *string { return &m.TaxRegion }},
	{FieldFinanceOwner, textValue, func(m *Mapping) *string { return &m.FinanceOwner }},
	{FieldEscalationReason, textValue, func(m *Mapping) *string { return &m.EscalationReason }},
	{FieldCreditRequest, textValue, func(m *Mapping) *string { return &m.CreditRequest }},
	{FieldCallbackExpected, boolValue, func(m *Mapping) *string { return &m.CallbackExpected }},
	{FieldCRMLink, textValue, func(m *Mapping) *string { return &m.CRMLink }},
	{FieldSupportTicketLink, textValue, func(m *Mapping) *string { return &m.SupportTicketLink }},
	{FieldPaymentLink, textValue, func(m *Mapping) *string { return &m.PaymentLink }},
}

// defaultIntentValues matches the samples' call_intent enum plus the values
// the other queues need.
var defaultIntentValues = map[string]Kind{
	"refund_request":         Refund,
	"charge_dispute":         Dispute,
	"collections":            Collections,
	"receipt_resend":         DocumentResend,
	"invoice_resend":         DocumentResend,
	"billing_address_change": BillingCorrection,
	"tax_id_change":          BillingCorrection,
	"payment_blocked":        PaymentBlocker,
	"failed_renewal":         PaymentBlocker,
	"other":                  "",
}

// DefaultMapping matches the field names used by the DialNexa samples
// (call_intent, invoice_number, amount, ...).
func DefaultMapping() Mapping {
	m := Mapping{Intent: "call_intent", IntentValues: make(map[string]Kind, len(defaultIntentValues))}
	for _, f := range fieldSpecs[1:] {
		*f.ref(&m) = f.name
	}
	for k, v := range defaultIntentValues {
		m.IntentValues[k] = v
	}
	return m
}

const intentValuePrefix = "intent.value."

// ParseMapping applies comma-separated overrides on top of [DefaultMapping]:
//
//	intent=my_intent_field,amount=claimed_amount,intent.value.chargeback=dispute
//
// A field entry is our field name (see the Field* constants) = the customer's
// field name. An intent.value.<theirs>=<kind> entry maps one intent value to a
// kind; an empty kind (or "other") means "fall through to the text rules".
// Errors name the bad entry.
func ParseMapping(s string) (Mapping, error) {
	m := DefaultMapping()
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, val, err := splitEntry(entry)
		if err == nil && seen[key] {
			err = fmt.Errorf("%q is set twice", key)
		}
		if err == nil {
			err = m.apply(key, val)
		}
		if err != nil {
			return Mapping{}, fmt.Errorf("triage: mapping entry %d %q: %w", i+1, entry, err)
		}
		seen[key] = true
	}
	return m, nil
}

func splitEntry(entry string) (key, val string, err error) {
	key, val, ok := strings.Cut(entry, "=")
	if !ok {
		return "", "", fmt.Errorf("want key=value")
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if key == "" {
		return "", "", fmt.Errorf("empty key")
	}
	return key, val, nil
}

func (m *Mapping) apply(key, val string) error {
	if theirs, ok := strings.CutPrefix(key, intentValuePrefix); ok {
		return m.applyIntentValue(theirs, val)
	}
	for _, f := range fieldSpecs {
		if f.name == key {
			if val == "" {
				return fmt.Errorf("empty field name for %q", key)
			}
			*f.ref(m) = val
			return nil
		}
	}
	return fmt.Errorf("unknown field %q (want one of %s, or %s<value>)", key, fieldNames(), intentValuePrefix)
}

func (m *Mapping) applyIntentValue(theirs, val string) error {
	theirs = strings.ToLower(strings.TrimSpace(theirs))
	if theirs == "" {
		return fmt.Errorf("empty intent value")
	}
	k := Kind(strings.ToLower(val))
	if k == "other" {
		k = ""
	}
	if k != "" && !k.Valid() {
		return fmt.Errorf("unknown kind %q", val)
	}
	m.IntentValues[theirs] = k
	return nil
}

func fieldNames() string {
	names := make([]string, len(fieldSpecs))
	for i, f := range fieldSpecs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}
