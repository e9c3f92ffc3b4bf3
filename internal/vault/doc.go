// Package vault keeps the originals of restricted values — tax identifiers and
// bank details a caller said, which finance may need back (a billing correction
// applies the caller's new VAT id) — encrypted, and is the only code that reads
// or writes the vault_entries table.
//
// Invariants:
//   - Only redact.Kind.Restricted kinds are kept. Card numbers never are: the
//     mask's last four is all Countersign ever holds of a card (PCI DSS).
//   - Each value is sealed with AES-256-GCM under the current key of the
//     keyring (COUNTERSIGN_VAULT_KEY, or _FILE), with a fresh random nonce and
//     the call id and kind as additional data, so an entry cannot be moved to
//     another call or kind. The key id is stored with it: older keys stay in
//     the keyring to open older entries (rotation), the first key seals.
//   - A value is kept once per call: entries are deduplicated by an HMAC of
//     the value under a key derived from the sealing key, never by a plain
//     hash (a nine-digit SSN's hash is a lookup away from the SSN).
//   - Pages, notes, search, exports, logs and connector payloads show the kind
//     only ("[vat]"); internal/approval reveals originals to allowed roles with
//     a stated reason, audited, and audits refused reveals too.
//   - Retention deletes a call's entries in the transaction that drops it.
package vault
