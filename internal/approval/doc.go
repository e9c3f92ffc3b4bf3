// Package approval holds the rules and transactions of money-moving decisions: the
// case lifecycle, the planned connector actions an approval will run, the approval
// policy, verified document recipients and the audited reveal of restricted values.
//
// # Lifecycle
//
// This package is the one owner of cases.status and actions.status: every move goes
// through [MoveCaseTx], [MoveActionTx] or [MoveCaseActionsTx] (or the decisions
// here), which lock the row, check the table and write the audit entry. Ingest
// inserting a new case (status new) is the one other writer. A test in
// internal/archtest fails on any other UPDATE of either status column.
//
// A case moves through a small explicit state machine ([Allowed] is the whole table):
//
//	new ◄──────────────► triaged ──────────────► awaiting_approval
//	 │  (claim check:      ▲  │                     │   │   │
//	 │   back to review)   │  ▼                     │   │   ▼
//	 ├─────────────────► needs_info ◄───────────────┘   │  rejected (final)
//	 │  (claim check:      │   (info added: back to     │
//	 │   already refunded) │    awaiting_approval)      ▼
//	 └─────────────────────┴─────────────────────► approved ──► executing ──► done (final)
//	   (new → awaiting_approval directly)                          │  ▲
//	                                                               ▼  │ (retry, no other
//	                                                  needs_attention    action waiting)
//	                                                      │     │
//	                                                      │     └──► done
//	                                                      └──► awaiting_approval
//	                    (edit and ask again: nothing of the plan took effect; the
//	                     failed and waiting actions cancelled, approvals voided,
//	                     a new plan with new keys; the editor is its requester)
//
// An action moves through its own table ([ActionAllowed]):
//
//	planned ──► queued ──► running ──► done (final, except:)
//	                        ↺ (rerun after a worker crash)
//	   │          │  ▲        │  │        └──► needs_attention  (Stripe reports the refund failed)
//	   ▼          │  └────────┘  │                 (temporary failure, retried)
//	cancelled     ├──────────────┴──► needs_attention | failed ──► queued (retry) | done
//	(final)       (plan changed, permanent error, attempts used up)
//
// A move to done or rejected also writes, in the same transaction, the job_outbox
// row that makes the case's Zendesk ticket follow it ([QueueTicketUpdateTx];
// [FollowUp] says what the ticket is told). No Zendesk call happens here.
//
// Any other move is illegal: the call answers an [IllegalMove] (matching
// [ErrIllegalMove] and [apperr.ErrConflict]) and changes nothing.
//
// # Invariants
//
//   - A case leaves awaiting_approval exactly once per request. Every decision locks
//     the case row (SELECT ... FOR UPDATE) and re-reads its status under the lock, so
//     two approvers deciding at the same moment produce one transition; the other gets
//     apperr.ErrConflict "already decided by ...".
//   - Before anyone approves, the exact connector actions are stored in actions
//     (status planned). Their idempotency key is "<call id>:<connector>.<operation>:
//     <action id>", fixed in the INSERT, before any attempt.
//   - An approval is bound to the fingerprint of the plan ([CurrentFingerprint]: SHA-256
//     of the canonical JSON of the non-cancelled actions' connector, operation and
//     params in position order). The approver's form carries the fingerprint they saw; a
//     different current fingerprint is a conflict. An edit that changes the fingerprint
//     voids every live approval and the case is awaiting approval again.
//   - The final approval, in ONE transaction: case approved then executing, actions
//     queued, audit entries, and [Service.OnApproved] (the job enqueuer). The worker
//     re-checks [CurrentFingerprint] before acting.
//   - Nobody approves (or rejects) a case they requested or edited; a second approver
//     differs from the first (also enforced by a unique index).
//   - An edit after a failure ([Service.EditAfterFailure]) replaces the whole plan, so
//     it is refused while any action of the case is done (run or resolved outside),
//     running, or holds an unsettled receipt at the other system: a refund that went
//     through is never planned twice. The new plan is never approved automatically.
//   - Above the policy's step-up amount an approval needs a sign-in newer than the
//     policy's window ([ErrStepUp]); checked in the same transaction that records it.
//   - A document or confirmation email is planned only to a recipient verified for the
//     customer; until then approval is refused.
//   - Every decision, policy change, recipient verification and reveal writes its audit
//     entry in the same transaction as the change (roll back: no entry).
package approval
