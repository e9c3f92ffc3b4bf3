-- Connector job bookkeeping that is not part of the approved plan: per-action facts
-- fixed before the first attempt, finance alerts raised by the workers, and a short
-- history of connector calls for the health panel.

-- +goose Up
-- Facts an action's executions need that must not change the plan's fingerprint
-- (actions.params is covered by it): the Drive file id reserved before the first
-- upload, the moment a send without look-up (SMTP, Zendesk update) was started, and
-- when the first attempt ran (Stripe forgets idempotency keys after 24 h).
CREATE TABLE action_effects (
    action_id        bigint      PRIMARY KEY REFERENCES actions(id),
    drive_file_id    text        NOT NULL DEFAULT '',
    blind_started_at timestamptz,
    first_attempt_at timestamptz,
    last_attempt_at  timestamptz
);

-- Slack alerts raised by the workers ("action needs attention"). Each is executed by
-- its own job, exactly once in effect (the alert id travels in the message metadata).
CREATE TABLE connector_alerts (
    id          bigserial   PRIMARY KEY,
    case_id     bigint      REFERENCES cases(id),
    action_id   bigint      REFERENCES actions(id),
    reason      text        NOT NULL,              -- needs_attention | failed | refund_failed | dispute | ...
    text        text        NOT NULL,              -- the message; never card data or secrets
    status      text        NOT NULL DEFAULT 'queued', -- queued | done | failed
    receipt_id  text        NOT NULL DEFAULT '',
    last_error  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    executed_at timestamptz
);
CREATE INDEX connector_alerts_action ON connector_alerts (action_id);

-- One row per outgoing connector call, kept a week, for the admin health panel
-- (last success, last failure, error rate) across every worker process.
CREATE TABLE connector_calls (
    id         bigserial   PRIMARY KEY,
    connector  text        NOT NULL,
    op         text        NOT NULL,
    ok         boolean     NOT NULL,
    sandbox    boolean     NOT NULL DEFAULT false,
    latency_ms integer     NOT NULL,
    error      text        NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connector_calls_recent ON connector_calls (connector, at DESC);

-- +goose Down
DROP TABLE connector_calls, connector_alerts, action_effects;
