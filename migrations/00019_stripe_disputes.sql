-- Stripe disputes as their charge.dispute.* webhooks report them. One row per
-- dispute (dp_...), owned by internal/jobs (stripe_events.go): created, updated and
-- closed events upsert it, newest event wins (Stripe does not order deliveries).
-- case_id is the dispute case it is linked to: the dispute case of a call whose case
-- concerns the disputed charge, opened on that call when there is none. A dispute no
-- case concerns stays unlinked (case_id NULL: every case rests on a call), is listed
-- on the connectors page, and is linked by its next event once a call about the
-- charge has arrived.

-- +goose Up
CREATE TABLE stripe_disputes (
    id               text        PRIMARY KEY,              -- dp_...
    charge           text        NOT NULL DEFAULT '',
    payment_intent   text        NOT NULL DEFAULT '',
    amount_minor     bigint      NOT NULL,                 -- Stripe minor units (its exponent, see internal/money)
    currency         text        NOT NULL,                 -- upper-case ISO code
    reason           text        NOT NULL DEFAULT '',
    status           text        NOT NULL,                 -- needs_response | under_review | won | lost | ...
    due_by           timestamptz,                          -- evidence_details.due_by: the approval deadline
    has_evidence     boolean     NOT NULL DEFAULT false,
    submission_count integer     NOT NULL DEFAULT 0,
    outcome          text        NOT NULL DEFAULT '',      -- won | lost, once closed
    case_id          bigint      REFERENCES cases(id),
    last_event_at    timestamptz NOT NULL,                 -- created time of the newest event applied
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_disputes_charge ON stripe_disputes (charge);
CREATE INDEX stripe_disputes_case ON stripe_disputes (case_id) WHERE case_id IS NOT NULL;

-- +goose Down
DROP TABLE stripe_disputes;
