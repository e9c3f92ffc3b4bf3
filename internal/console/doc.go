// Package console holds the queries and changes behind the console's work queues and
// case pages: queue listing with filters and keyset pagination, navigation counts,
// case detail, notes with @mentions, saved views, assignment, reclassification, tags,
// bulk actions and CSV export.
//
// # Invariants
//
//   - Every change to a case (assign, reclassify, tag, mark reviewed, note added) and
//     every export writes its audit entry (internal/audit) in the same transaction as
//     the change. Bulk actions write one entry per case, marked "bulk": true, so each
//     case's timeline is complete.
//   - Queue pages never use OFFSET: the cursor carries the sort key and the id, and
//     each sort has a partial index on open cases (migrations/00006_console.sql) whose
//     expression matches the sort expression here exactly.
//   - A note that contains card, bank or tax data is refused, never stored or rewritten.
//   - The recording link leaves this package only for viewers allowed to hear it.
package console
