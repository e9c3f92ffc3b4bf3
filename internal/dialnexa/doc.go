// Package dialnexa verifies and decodes DialNexa call webhooks
// (shared/contracts/dialnexa-webhook.md is the authoritative wire contract).
//
// The order is fixed: Verify the signature over the exact raw body first, and
// only then Decode it. Decode accepts every envelope generation DialNexa has
// documented (current, verification, dotted event names, the older flat
// scheme) and normalises them into one Event. It never fails on shapes it
// does not know: a validly signed body it cannot map is an Event of kind
// KindIgnored. It fails only on malformed JSON or on a call event that
// carries no call id, since the call id is the idempotency key.
//
// Decoded calls contain unredacted transcripts and personal data: never log
// a body, a Call or a transcript.
package dialnexa
