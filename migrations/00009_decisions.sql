-- Decisions: approval policy versions, approvals bound to a plan fingerprint, the
-- decision history of each case, and recipients verified for document delivery.
-- The rules live in internal/approval (doc.go describes the state machine).

-- +goose Up
-- Every policy change is a new row; a case keeps the version current when it entered
-- approval, so a later change never alters the rule an in-flight case is judged by.
CREATE TABLE policy_versions (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text        NOT NULL,              -- audit actor label, 'migration' for version 1
    rules      jsonb       NOT NULL
);

-- Version 1: the default policy. Amounts are integer minor units; "*_below" bounds
-- are exclusive, "step_up_above" is exclusive too (step-up when amount > it).
INSERT INTO policy_versions (id, created_by, rules) VALUES (1, 'migration', '{
  "currencies": {
    "USD": {"automatic_below": 10000, "one_approver_below": 100000, "step_up_above": 500000},
    "EUR": {"automatic_below": 10000, "one_approver_below": 100000, "step_up_above": 500000},
    "GBP": {"automatic_below": 10000, "one_approver_below": 100000, "step_up_above": 500000},
    "JPY": {"automatic_below": 10000, "one_approver_below": 100000, "step_up_above": 500000}
  },
  "kinds": {},
  "always_human_kinds": ["dispute", "billing_correction"],
  "no_amount_approvals": 1,
  "step_up_minutes": 10
}'::jsonb);
SELECT setval(pg_get_serial_sequence('policy_versions', 'id'), 1);

-- What a case carries once someone asks for a decision.
ALTER TABLE cases
    ADD COLUMN policy_version    bigint REFERENCES policy_versions(id),
    ADD COLUMN requested_by      bigint REFERENCES users(id),
    ADD COLUMN requested_at      timestamptz,
    ADD COLUMN recipient_email   text NOT NULL DEFAULT '',   -- the address a document was asked to go to, when edited
    ADD COLUMN approval_deadline timestamptz;                -- follow_up_deadline or a dispute's evidence due date
CREATE INDEX cases_approval_deadline ON cases (approval_deadline)
    WHERE approval_deadline IS NOT NULL AND status IN ('awaiting_approval', 'needs_info');

UPDATE cases c SET approval_deadline = least(c.follow_up_deadline,
    (SELECT min(f.due_date) FROM billing_facts f WHERE f.case_id = c.id AND f.object = 'dispute'));

-- One row per approval. An approval is valid only for the fingerprint it names and
-- only while voided_at is NULL; an edit to the plan voids every live approval.
CREATE TABLE approvals (
    id             bigserial   PRIMARY KEY,
    case_id        bigint      NOT NULL REFERENCES cases(id),
    approver_id    bigint      REFERENCES users(id),  -- NULL for the automatic approval
    approver_label text        NOT NULL,              -- 'user:42 fiona@example.com' or 'policy:automatic'
    fingerprint    text        NOT NULL,
    policy_version bigint      NOT NULL REFERENCES policy_versions(id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    voided_at      timestamptz,
    void_reason    text        NOT NULL DEFAULT ''
);
-- A second approver differs from the first, even under a race.
CREATE UNIQUE INDEX approvals_one_per_approver ON approvals (case_id, approver_id) WHERE voided_at IS NULL;
CREATE INDEX approvals_case ON approvals (case_id, id);

-- The decision history of a case: requests, edits, rejections, requests for info,
-- final approvals. "Who proposed this" is every requested/edited row's actor.
CREATE TABLE case_decisions (
    id          bigserial   PRIMARY KEY,
    case_id     bigint      NOT NULL REFERENCES cases(id),
    decision    text        NOT NULL,   -- requested | edited | approved | auto_approved | rejected | needs_info | info_added | voided
    actor_id    bigint      REFERENCES users(id),
    actor_label text        NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    note        text        NOT NULL DEFAULT '',
    fingerprint text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_decisions_case ON case_decisions (case_id, id);

-- Addresses a document may be sent to, per customer, beyond the billing email on
-- file (which is verified by definition).
CREATE TABLE verified_recipients (
    id           bigserial   PRIMARY KEY,
    customer_key text        NOT NULL,   -- 'ref:cus_123' or 'phone:+14155550142'
    email        text        NOT NULL,   -- lower-cased
    method       text        NOT NULL CHECK (method IN ('call_back', 'email_confirmation')),
    note         text        NOT NULL DEFAULT '',
    verified_by  bigint      NOT NULL REFERENCES users(id),
    verified_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT verified_recipients_one UNIQUE (customer_key, email)
);

-- +goose Down
DROP TABLE verified_recipients, case_decisions, approvals;
DROP INDEX cases_approval_deadline;
ALTER TABLE cases DROP COLUMN approval_deadline, DROP COLUMN recipient_email, DROP COLUMN requested_at,
    DROP COLUMN requested_by, DROP COLUMN policy_version;
DROP TABLE policy_versions;
