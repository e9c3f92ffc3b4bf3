// Package triage turns one finished, already redacted DialNexa call into zero or
// more case specs, one per piece of work finance has to do (a dispute that also
// asks for a receipt yields a dispute and a document_resend).
//
// Sources of truth, in order:
//
//  1. the customer's post-call analysis intent, read through a configurable
//     [Mapping] (their field names and enum values to ours);
//  2. phrase rules over the call summary and the caller's own transcript lines
//     (agent lines are ignored: agents offer things, callers ask for them).
//
// Invariants every caller may rely on:
//
//   - A call that never connected (status "hangup") or carries no content
//     yields no specs.
//   - Every spec's Confidence is in [0, 1], and a spec whose confidence is
//     below [ReviewThreshold] has Kind [Review]; its Reasons name the
//     suspected kind. A call yields at most one Review spec.
//   - Sensitive requests (bank details, tax id change without a verified
//     customer) always surface as Review, with the reason.
//   - Classify does no I/O and never sees money as a float: amounts are
//     passed through as the text the customer sent; ingest converts them to
//     minor units with internal/money.
//
// # Urgency
//
// Critical means money or a customer is lost soon if nobody acts today; the
// rules are checked in this order and a case takes the highest level any
// rule gives, with one reason per rule at that level ("urgency critical:
// ...", shown beside the level on the case page):
//
//   - low: the call resolved the issue and nothing awaits approval (this
//     wins over every other rule: there is nothing left to lose);
//   - critical: a VIP customer cannot pay (payment blocker); a chargeback
//     whose response is due within 72 hours; any follow-up deadline within
//     24 hours of the call or already past; an amount at or above the
//     critical line (COUNTERSIGN_CRITICAL_AMOUNTS, default 10,000 in the
//     call's currency, 1,500,000 JPY, 15,000,000 KRW);
//   - high: a VIP customer; a failed renewal; a chargeback or duplicate
//     charge; 1,000 or more (100,000 JPY, 1,000,000 KRW); a deadline within
//     48 hours;
//   - normal: everything else.
//
// Repeat calls do not raise urgency (the number of calls from a number says
// nothing about what is at stake: in the demo data every caller has called 3+
// times in 30 days), and VIP status alone makes a case high, not critical: a
// VIP asking for a receipt is not an emergency.
package triage
