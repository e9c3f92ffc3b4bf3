-- Planned connector actions and billing-system facts: the contract between decisions
-- (which plan and approve actions) and the connector jobs (which execute them).

-- +goose Up
-- What the billing system (or a price source) said about a case's claim.
CREATE TABLE billing_facts (
    id              bigserial   PRIMARY KEY,
    case_id         bigint      NOT NULL REFERENCES cases(id),
    source          text        NOT NULL,              -- stripe | tokenmetrics | sandbox
    object          text        NOT NULL,              -- invoice | charge | payment_intent | subscription | customer | dispute | price
    external_id     text        NOT NULL DEFAULT '',
    amount_minor    bigint,
    currency        text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT '',
    refunded        boolean     NOT NULL DEFAULT false,
    amount_refunded bigint      NOT NULL DEFAULT 0,
    disputed        boolean     NOT NULL DEFAULT false,
    due_date        timestamptz,
    customer_email  text        NOT NULL DEFAULT '',   -- the billing email on file (a verified recipient source)
    detail          jsonb       NOT NULL DEFAULT '{}',
    looked_up_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT billing_facts_one UNIQUE (case_id, source, object, external_id)
);

-- The outcome of checking the caller's claim against those facts.
CREATE TABLE claim_checks (
    case_id     bigint      PRIMARY KEY REFERENCES cases(id),
    checked_at  timestamptz NOT NULL DEFAULT now(),
    confidence  real        NOT NULL,                  -- 0..1 that the claim matches the billing system
    verified    boolean     NOT NULL DEFAULT false,    -- identity and claim verified: allows automatic approval
    mismatches  jsonb       NOT NULL DEFAULT '[]',     -- [{field, claimed, found}]
    note        text        NOT NULL DEFAULT ''
);

-- Connector actions, planned before approval and executed after it. An approval is
-- bound to the fingerprint of a case's planned actions (see internal/approval).
CREATE TABLE actions (
    id              bigserial   PRIMARY KEY,
    case_id         bigint      NOT NULL REFERENCES cases(id),
    position        smallint    NOT NULL,              -- order within the case's plan
    connector       text        NOT NULL,              -- stripe | slack | zendesk | email | drive | sheets
    operation       text        NOT NULL,              -- refund | stage_evidence | alert | ticket | send_document | upload | append_row
    params          jsonb       NOT NULL,              -- the exact parameters; never card, bank or tax numbers
    description     text        NOT NULL,              -- the line an approver reads
    idempotency_key text        NOT NULL UNIQUE,       -- e.g. call_abc:refund:<approval id>, fixed before the first attempt
    status          text        NOT NULL DEFAULT 'planned', -- planned | queued | running | done | failed | needs_attention | cancelled
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    receipt_id      text        NOT NULL DEFAULT '',   -- the other system's id (re_..., ticket id, message id)
    receipt         jsonb,
    sandbox         boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    executed_at     timestamptz
);
CREATE INDEX actions_case ON actions (case_id, position);
CREATE INDEX actions_attention ON actions (status) WHERE status IN ('failed', 'needs_attention');

-- +goose Down
DROP TABLE actions, claim_checks, billing_facts;
