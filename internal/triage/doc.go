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
package triage
