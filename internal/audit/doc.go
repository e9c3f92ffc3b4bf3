// Package audit keeps Countersign's tamper-evident audit log: one hash chain in the
// audit_log table (migrations/00004_audit.sql).
//
// # Two phases: append unsealed, seal in order
//
// A hash chain needs one order, and each hash needs the one before it. Computing it
// in the request's transaction meant holding a lock from the first audited statement
// to commit, so every audited transaction queued behind the one before (webhook
// ingestion topped out near 330 deliveries/s with most connections waiting on the
// lock). So the work is split:
//
//  1. [Append] inserts the entry unsealed, inside the caller's transaction: an id from
//     a sequence, at, the content; no seq, no hashes. No lock, no read of the chain:
//     audited transactions run side by side.
//  2. [Seal], one sealer at a time (transaction-scoped advisory lock [LockKey], across
//     processes), takes committed unsealed entries in id order, gives each the next
//     seq, its prev_hash and hash, and writes a round of up to 1000 with one UPDATE.
//     [RunSealer] does this every 200 ms in the background.
//
// The chain's order is sealing order. An id is taken at insert, but the transaction
// may commit later than one holding a higher id; a round only sees committed entries,
// so the late one is sealed by a later round with a higher seq. seq order is therefore
// roughly commit order, id order is insert order, and neither promises anything about
// at. Every sealed entry is in exactly one place, which is what the chain needs.
//
// Until it is sealed (about [DefaultSealEvery] after commit), an entry is guarded by
// the triggers but not yet by the chain: an owner who disables the triggers could
// change or remove it without a trace. [Verify] reports how many entries wait
// (Report.Unsealed) and treats any older than a minute as a problem (KindUnsealed):
// the sealer is not running. Verify itself never seals.
//
// # Invariants
//
//   - Append-only, sealed once. Row-level and TRUNCATE triggers refuse DELETE and
//     TRUNCATE, and every UPDATE except the seal: a row with no seq and no hashes
//     getting seq, prev_hash and hash, with every other column unchanged. A sealed row
//     can never change again. Refusals are SQLSTATE 42501 (permission denied), even
//     for the table owner. An owner who disables the triggers can still change rows;
//     the chain below makes that visible for sealed rows.
//   - One chain, no gaps. seq runs 1, 2, 3, ... with no gaps and no forks: sealers
//     queue on LockKey, read the last seq under it and write in READ COMMITTED. audit_log
//     is partitioned by month of at (migrations/00013_audit_by_month.sql), so seq and
//     hash cannot be UNIQUE; a sealer re-counts the seqs it wrote before committing, so
//     one that raced a sealer bypassing the lock fails (ErrChainMoved), and Verify
//     finds any duplicate or fork. ids may have gaps (a rolled-back Append uses one
//     up); a gap in seq means a deleted entry, unless a sealed audit.retention entry
//     records it (see Retention).
//   - Same transaction. Append writes inside the caller's transaction, so the change
//     and its audit entry commit or roll back together. A rolled-back entry was never
//     visible to a sealer, so it leaves no seq gap. Append may be called anywhere in
//     the transaction; it holds nothing that others wait for.
//   - Nothing secret, nothing forged. Every string field, summary keys and values
//     included, has control characters (CR, LF, TAB, NUL, DEL, C1), U+2028/U+2029 and
//     bidi controls replaced by visible escapes (`\n`, `\r`, `\t`, `\u001b`), so no
//     field can start a second line of a JSON-lines or CSV export or reorder text on
//     screen. Summary string values, and number values, first pass through [Redact].
//
// # Hash chain
//
//	hash(1)   = SHA-256(32 zero bytes || canonical(entry 1))
//	hash(n)   = SHA-256(hash(n-1)     || canonical(entry n))
//	prev_hash(n) = hash(n-1), stored with each row
//
// # Canonical form
//
// canonical(entry) is one JSON object, without whitespace, with exactly these keys in
// byte order:
//
//	action, actor, actor_id, at, id, ip, object_id, object_type, outcome, prev_hash,
//	request_id, seq, summary, user_agent
//
// id is the row's id, a JSON integer: it ties each link of the chain to the row that
// pages and bundles name. actor_id is a JSON integer or null; at is the append time,
// RFC 3339 in UTC with the fraction trimmed of trailing zeros (Go's time.RFC3339Nano;
// Postgres keeps microseconds); prev_hash is lower-case hex; seq is a JSON integer;
// summary is an object whose keys, at every depth, are sorted in byte order, and whose
// numbers are written exactly as Postgres prints the stored jsonb. Strings are JSON
// strings with `"` and `\` escaped and nothing else (after sanitising they hold no
// control characters); non-ASCII is literal UTF-8. This is what Go's encoding/json
// writes for a map with HTML escaping off and numbers decoded as json.Number; any JSON
// library that sorts keys, drops whitespace and copies number literals unchanged
// (never through a float) can recompute the hashes without this code. sealed_at is
// bookkeeping and not hashed.
//
// # Heads and verification
//
// A chain rewritten from some point onwards, with every later hash recomputed, is
// internally consistent. Only a head exported earlier ([CurrentHead], `audit head`),
// and kept somewhere the database's owner cannot write, shows such a rewrite or a cut
// tail. [Verify] checks the sealed chain in seq order, against a head when one is
// given; [Bundle] writes the chain segment covering one object's sealed entries, with
// full records, and [VerifyBundle] checks such a file offline. [List], for the audit
// page and the case timeline, shows sealed and unsealed entries alike, newest id first.
//
// # Retention
//
// `countersign retention` (internal/retention) drops whole old months of audit_log.
// Before it drops one it exports the month (JSON lines, as [Export] writes them) and,
// in the transaction that drops it, appends and seals ([AppendSealed]) an entry with
// action [RetentionAction] whose summary ([RetentionSummary]) records, cumulatively,
// every month dropped so far with the exact seqs it held, its export's name and
// sha256, and the bridges: the (seq, hash) of each dropped entry that a kept entry
// follows. [Verify] reads those entries first and accepts a gap only where they
// record every missing seq and the entry after the gap carries the recorded bridge
// hash as its prev_hash; a dropped seq that is present again is a problem too. A
// retention entry only ever covers seqs below its own. [VerifyWith] can also start at
// an exported head (FromHead), which, if retention dropped its entry, the recorded
// bridge or the month's export must prove, and check export files against what
// their retention entry recorded. Like any entry, a retention entry is as safe as the
// chain after it: heads exported after a retention run, and the exports kept outside
// the database, are what expose a forged one.
package audit
