// Package handoff writes the operational summary that travels with a case: what
// the caller asked for, what we learned and verified, which billing object is
// affected, who owns the next step, the next step and its deadline, and links to
// the full record (case, transcript, recording, billing-system object).
//
// The wording of every summary lives in templates.go, one entry per case kind,
// reviewed in one place; every outgoing payload Countersign builds (Zendesk ticket
// body and public reply, email, Slack, Sheets row, Drive file) renders from a
// [Summary], never from its own format string.
//
// Invariants:
//   - Inputs are already redacted (ingest masks card, bank and tax numbers before
//     anything is stored), and every rendering passes through internal/redact
//     again, so a restricted value cannot leave in a summary even when a caller
//     passes one by mistake. Tax ids and addresses of billing corrections are
//     never inputs: the summary says a correction was asked for, not its values.
//   - A summary depends only on stored case data, never on the clock, so a plan
//     built twice from the same case gets the same bytes (and fingerprint).
//   - The recording is linked through the case page (which restricts it by role),
//     never by DialNexa's pre-signed URL.
package handoff
