-- During a burst of webhooks (internal/ingest/inbox.go) a verified, redacted call
-- event is acknowledged once it is durable here, and filed into webhook_deliveries,
-- calls, cases and the audit log by the inbox processor in the transaction that
-- deletes its row. Rows live seconds (at most about half a minute behind a burst);
-- the body is redacted like every stored delivery, and the restricted originals
-- (tax ids, bank details) are sealed with the vault key, never stored in the clear.

-- +goose Up
CREATE TABLE webhook_inbox (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL DEFAULT now(),
    raw_sha256      bytea NOT NULL,
    body            jsonb NOT NULL,
    suppressed      jsonb NOT NULL DEFAULT '{}',
    restricted      boolean NOT NULL DEFAULT false,
    sealed_findings bytea,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE webhook_inbox;
