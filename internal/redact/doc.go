// Package redact suppresses card, bank and tax data in free text (call
// transcripts, summaries, notes, extracted fields) and in whole JSON
// documents before anything is stored, logged, queued or sent to a connector.
//
// # Normalisation
//
// Detectors never read the text as sent. normalize rewrites it first — Unicode
// NFKC, every \p{Nd} digit (full-width, Arabic-Indic, Devanagari…) to ASCII,
// every space separator (no-break spaces included) to ' ', every dash to '-',
// fraction/division slashes to '/', one-dot leaders and ideographic full stops
// to '.', and zero-width/format characters (ZWSP, ZWJ, BOM, soft hyphen)
// dropped — and keeps, for every byte, the offset of the rune it came from. A
// finding is carried back through that map, so the mask replaces exactly the
// characters that were said, whatever their script. ASCII text is its own
// normal form and costs nothing.
//
// # What is masked, and why (checksum, shape, context)
//
//   - Card numbers: 13–19 digits passing Luhn, written, spoken or mixed. Digit
//     groups join across up to two separators (space, tab, line break, dash,
//     dot, slash, underscore, comma) and up to two fillers or spoken separators
//     ("uh", "um", "dash"), and, after a line break, a speaker label
//     ("User:"), so cards read in groups, split over lines or turns, or
//     broken by hesitation stay one number. Spoken forms: single digits, "oh",
//     "double/triple x", teens and tens ("forty-two", "twelve"), "x hundred
//     [and] yz" and "forty-two hundred". Inside a longer run a window is a card
//     when it is a maximal run of groups joined by one separator byte, grouped
//     like a card (one group, 4-4-4-…, 4-6-5, 4-6-4), or holds a spoken digit.
//     Cards are masked whatever the context: PCI DSS allows the last four only.
//     Mask: [card •••• 4242].
//   - Security codes: 3–4 digits named by CVV/CVC/CID/"security code" wording.
//   - IBANs: the SWIFT IBAN registry (89 countries: length and BBAN format),
//     any case, any separators (space, double space, dash, dot, line break)
//     between characters, and the mod-97 check; a BBAN of letters with fewer
//     than four digits (LV, QA, MT…) is still an IBAN. [iban]
//   - VAT numbers: every EU member state (Greece as EL or GR), XI, GB, CH (CHE)
//     and NO, prefixed by the country code in any case and with separators, in
//     the country's shape and passing its check digits (AT, BE, BG, CY, CZ,
//     DE, DK, EE, EL, ES, FI, FR, HR, HU, IE, IT, LT, LU, LV, MT, NL, PL, PT,
//     RO, SE, SI, SK, GB/XI, CH, NO). Shapes with no simple check (BG and CZ
//     ten-digit personal numbers, GB GD/HA) count only with an upper-case
//     prefix, and a lower-case prefix set apart from its digits ("no 3401
//     06075") only after VAT wording. Also 8–12 bare digits named by VAT
//     wording. [vat]
//   - SSN/ITIN/EIN: nine digits grouped 3-2-4 (SSA-valid parts; ITIN group
//     ranges) or 2-7 (an assigned EIN prefix), separated by dashes, dots or a
//     spoken "dash", need no context. Nine digits in any other grouping need
//     tax wording (SSN, social security, ITIN, EIN, tax id, TIN) before them
//     (up to 120 bytes, never past the previous number) or after them in the
//     same sentence ("… is my SSN").
//   - Routing numbers (ABA checksum, or sort code's six digits) named as such
//     or next to a bank account number.
//   - Bank account numbers (6–17 digits) named as such. "Account number" alone
//     is ambiguous in a billing call: "customer", "billing", "client",
//     "member" just before it make it the caller's account with us (kept);
//     otherwise banking words around it (bank, routing, IBAN, wire, ACH,
//     direct debit, checking, savings…) make it a bank's; otherwise "with us",
//     "in our system", "on the bill" after it keep it; otherwise it is masked
//     ("account at" names an account too). A word before a colon is a speaker
//     label ("Customer: checking acct …"), not customer wording.
//
// Restricted kinds (Kind.Restricted: IBAN, routing, bank account, SSN, EIN,
// ITIN, VAT) are masked with their kind only ("[vat]"): finance gets the
// original back from internal/vault, never from the text. StringVault and
// JSONDocument return those originals (Finding) for the vault; a card's is
// never returned. Mentions (mentions.go) counts private documents named
// (passport, tax return, bank statement, ID document) for the suppression flag.
//
// # What survives (precision)
//
// Business identifiers are kept: a value whose nearest wording is invoice,
// order, ticket, receipt, tracking, reference, confirmation, case, SKU, PO,
// quote, claim, serial, phone, extension, zip, customer/member number,
// subscription, contract, policy, licence, expiry or date is ours, not the
// caller's, and overrides a shape-only match ("invoice number 45-1234567" is
// no EIN) and weaker wording earlier in the text ("VAT invoice 2026004512").
// Weak keywords that are also ordinary words ("tin", "social", "cid", "aba",
// "iva", "ust") give way to any business word in the same sentence ("tin
// 123456789 is the tin can sku"). A keyword after a value only names it when
// no other number that could be its value follows the keyword in the sentence
// ("exp 1228 cvv 123"; but "123 45 6789 is my SSN for the 1099" names the
// first: an SSN, EIN, ITIN or routing number has nine digits). A digit glued
// to a form's name ("the EIN on the W-9 is …") does not end the keyword's reach.
// Numbers glued to letters, currency or units (INV-20931, call_8f2c, $12.00,
// 15:02, 3%) are never context values; canonical UUIDs are skipped whole;
// Stripe ids (ch_…, pi_…, cus_…) are identifiers glued to '_'. Phone numbers,
// dates and amounts fail Luhn, length or shape and carry no tax wording.
//
// # Invariants
//
// String's output, normalised, never contains a Luhn-valid run of 13–19 ASCII
// digits, a run being digits joined by single spaces, dashes, dots, slashes
// or underscores, whatever surrounds it (letters included), with one
// exception: a canonical 8-4-4-4-12 hex UUID is an identifier and is left
// whole. The fuzz target checks exactly this with an independent regexp.
//
// String is idempotent: String(String(x)) == String(x). It repeats its scan
// until a scan finds nothing (each changing pass removes unmasked digits, so
// this ends). A mask token's four digits, and its label, are opaque to every
// detector, so masks are never re-detected as anything else.
//
// Output grows by at most len("[card •••• 1234]") bytes per finding.
//
// Strings and JSON redact several texts as one document (joined by line
// breaks), so a number read across two transcript turns is found; each text
// keeps its own part of the mask, and a turn holding only fillers is left
// alone. JSON treats keys and numbers as text too.
//
// # Cost
//
// It runs in the webhook hot path: one normalising pass (none for ASCII), one
// tokenizing pass plus one byte pass for country-prefixed identifiers, no
// regular expressions, and no allocation for clean ASCII text (String returns
// its argument). See BenchmarkString20KB and BenchmarkRedactTranscript20KB.
//
// # Not covered
//
// Numbers spoken as "thousand"/"million" (amounts, not card reads); digits
// in scripts without \p{Nd} (Chinese numerals); a separator run longer than
// the join rules above; IBANs and VAT numbers interrupted by fillers.
package redact
