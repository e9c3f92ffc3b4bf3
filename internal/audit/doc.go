// Package audit keeps Countersign's tamper-evident audit log: one hash chain in the
// audit_log table (migrations/00004_audit.sql).
//
// # Invariants
//
//   - Append-only. Rows are only ever inserted, by Append. Row-level and TRUNCATE
//     triggers refuse UPDATE, DELETE and TRUNCATE with SQLSTATE 42501 (permission
//     denied), even for the table owner. An owner who disables the triggers can still
//     change rows; the chain below makes that visible.
//   - One chain, no gaps. seq runs 1, 2, 3, ... with no gaps and no forks. Append takes
//     the transaction-scoped advisory lock [LockKey] before it reads the last row, so
//     concurrent writers queue instead of forking; the lock is released when the
//     caller's transaction ends. seq is the primary key and hash is unique, so even a
//     writer that bypassed the lock could not fork the chain, only fail. A rolled-back
//     transaction leaves no entry and no gap. Append needs READ COMMITTED (Postgres's
//     default): under REPEATABLE READ the last row may be stale and Append fails.
//   - Same transaction. Append writes inside the caller's transaction, so the change
//     and its audit entry commit or roll back together. Callers append last, because
//     the lock is held from Append until commit and serialises every audited write.
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
//	action, actor, actor_id, at, ip, object_id, object_type, outcome, prev_hash,
//	request_id, seq, summary, user_agent
//
// actor_id is a JSON integer or null; at is RFC 3339 in UTC with the fraction trimmed
// of trailing zeros (Go's time.RFC3339Nano; Postgres keeps microseconds); prev_hash is
// lower-case hex; seq is a JSON integer; summary is an object whose keys, at every
// depth, are sorted in byte order, and whose numbers are written exactly as Postgres
// prints the stored jsonb. Strings are JSON strings with `"` and `\` escaped and
// nothing else (after sanitising they hold no control characters); non-ASCII is
// literal UTF-8. This is what Go's encoding/json writes for a map with HTML escaping
// off and numbers decoded as json.Number; any JSON library that sorts keys, drops
// whitespace and copies number literals unchanged (never through a float) can
// recompute the hashes without this code.
//
// # Heads and verification
//
// A chain rewritten from some point onwards, with every later hash recomputed, is
// internally consistent. Only a head exported earlier ([CurrentHead], `audit head`),
// and kept somewhere the database's owner cannot write, shows such a rewrite or a cut
// tail. [Verify] checks the stored chain, against a head when one is given;
// [Bundle] writes the chain segment covering one object, with full records, and
// [VerifyBundle] checks such a file offline.
package audit
