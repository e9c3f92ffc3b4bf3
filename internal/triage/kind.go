package triage

// Kind is a case kind; each kind is one work queue.
type Kind string

// The case kinds, matching the design's queue table.
const (
	Dispute           Kind = "dispute"
	Refund            Kind = "refund"
	Collections       Kind = "collections"
	DocumentResend    Kind = "document_resend"
	BillingCorrection Kind = "billing_correction"
	PaymentBlocker    Kind = "payment_blocker"
	Review            Kind = "review"
)

// Kinds lists every kind in display order (queues in the navigation).
var Kinds = []Kind{Dispute, Refund, Collections, DocumentResend, BillingCorrection, PaymentBlocker, Review}

// Valid reports whether k is one of [Kinds]; the empty kind is not valid.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// auxiliary kinds are add-ons that can accompany any other request without
// contradicting it (a refund caller may also want the invoice copy).
func (k Kind) auxiliary() bool {
	return k == DocumentResend || k == BillingCorrection
}
