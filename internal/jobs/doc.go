// Package jobs runs Countersign's connector work on River: the approved actions
// (Stripe refunds, Slack alerts, Zendesk tickets, emails, Drive uploads, Sheets rows),
// the alerts raised when an action needs a person, enrichment of new cases, the
// Stripe reconciliation and the sweeper.
//
// Invariants:
//   - A job is inserted in the same transaction as the decision that causes it
//     (OnApproved, RetryAction): roll the decision back and there is no job. The
//     webhook path writes job_outbox rows in its transaction instead, and the
//     dispatcher (outbox.go) turns each committed row into exactly one job. The insert uses an insert-only River client on database/sql given
//     gorm's *sql.Tx; the working client runs on pgx over the same pool and wakes on
//     LISTEN/NOTIFY.
//   - At most one live job per action (River unique by action id); the action row is
//     the sent-marker: a rerun of a done action does nothing.
//   - Every effectful call carries the action's idempotency key, or looks for its
//     own earlier effect before repeating it (Slack, Gmail, Sheets, Zendesk after
//     the key's window, Stripe after 12 h); sends that can do neither (SMTP, Zendesk
//     comment) are at most once: a rerun after an unknown outcome asks a person.
//   - Job arguments carry ids and the approved fingerprint only: never PII, card
//     data or secrets.
//   - Restricted values (a billing correction's tax id) travel as their kind and
//     vault ref ("[vat]", "vat-12"); the worker opens the vault (Options.Vault)
//     only to send the value to Stripe, and receipts, errors and logs carry the
//     Stripe object ids (cus_..., txi_...) and the type, never the value.
//   - A permanent error is never retried: the action and its case go to
//     needs_attention with the error in plain words, an alert job and an audit
//     entry in the same transaction. Exhausted retries end the same way, as failed.
package jobs
