// Package redact suppresses card, bank and tax data in free text (call
// transcripts, summaries, notes, extracted fields) before anything is stored,
// logged, queued or sent to a connector.
//
// # What is masked
//
//   - Card numbers: 13–19 digits written contiguously or in groups separated
//     by single spaces or dashes, or spoken by speech-to-text ("four two four
//     two…", "oh" for zero, "double five"), possibly mixed with digits, that
//     pass Luhn. Mask: [card •••• 4242].
//   - Security codes: 3–4 digits (or spoken digits) following CVV, CVC, CVV2,
//     CID, CSC or "security code" wording. Mask: [cvv •••].
//   - IBANs with a valid mod-97 check, electronic or printed: [iban •••• 3000].
//   - ABA routing numbers (prefix and checksum valid) after routing/ABA wording
//     or next to a bank account number: [routing •••• 0021].
//   - Account numbers of 6–17 digits announced as such ("account number",
//     "acct no.", "checking account"): [bank account •••• 5678].
//   - SSNs (ddd-dd-dddd with SSA-valid parts, or 9 digits after SSN/social
//     security wording): [ssn •••• 6789]; EINs (dd-ddddddd with an assigned
//     prefix, or 9 digits after EIN wording): [ein •••• 6789]; ITINs (9xx-xx-xxxx
//     in the ITIN group ranges): [itin •••• 1234].
//   - VAT numbers with an AT, BE, DE, ES, FR, GB, IE, IT, NL, PL or SE prefix in
//     that country's shape, or 8–12 bare digits after VAT wording: [vat •••• 6789].
//
// Masks show at most the last four digits, never a BIN. Context wording is
// matched case-insensitively in the 48 bytes before a value and only since the
// previous number: in "cvv 123, expiry 1228" only 123 is a security code.
//
// # Invariants
//
// String's output never contains a Luhn-valid run of 13–19 ASCII digits, a run
// being digits joined by single spaces or dashes, whatever surrounds it (letters
// included), with one exception: a canonical 8-4-4-4-12 hex UUID is an
// identifier and is left whole. The fuzz target checks exactly this with an
// independent regexp.
//
// String is idempotent: String(String(x)) == String(x). It gets there by
// construction rather than by care in each detector: it repeats its scan until
// a scan finds nothing (each changing pass removes unmasked digits, so this
// ends; in practice one pass plus a confirming one). A mask token's four
// digits, and its label, are opaque to every detector, so masks are never
// re-detected as anything else.
//
// Output grows by at most len("[bank account •••• 1234]") bytes per finding.
//
// # Cost
//
// It runs in the webhook hot path: one tokenizing pass plus one byte pass for
// country-prefixed identifiers, no regular expressions, and no allocation when
// nothing is found (String returns its argument). See BenchmarkString20KB.
//
// # Not covered
//
// Non-ASCII digits (full-width, Arabic-Indic), separators other than space,
// comma and dash (dots, non-breaking spaces, en dashes), number words beyond
// single digits ("forty-two"), and context wording that follows the value
// ("… is my SSN") are not recognised.
package redact
