-- +goose Up
-- Restricted values (tax ids, bank details) a caller said, kept encrypted with
-- AES-GCM under COUNTERSIGN_VAULT_KEY. Only internal/vault reads or writes this
-- table; pages, search, exports, logs and payloads carry the kind only ("[vat]").
-- calls is partitioned by month, so there is no foreign key: retention deletes a
-- call's entries in the transaction that drops its partition.
CREATE TABLE vault_entries (
    id          bigserial   PRIMARY KEY,
    call_id     bigint      NOT NULL,
    kind        text        NOT NULL,
    key_id      text        NOT NULL,           -- which key sealed it (rotation)
    nonce       bytea       NOT NULL,
    sealed      bytea       NOT NULL,           -- AES-GCM(value), bound to call_id and kind
    fingerprint bytea       NOT NULL,           -- HMAC of the value: one entry per value and call
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vault_entries_once UNIQUE (call_id, fingerprint)
);
CREATE INDEX vault_entries_call ON vault_entries (call_id, id);

-- The suppression flag: what was suppressed (kind -> count, private documents
-- mentioned included), and restricted handling when a private document was.
ALTER TABLE calls ADD COLUMN restricted boolean NOT NULL DEFAULT false;
ALTER TABLE cases ADD COLUMN suppressed jsonb NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN restricted boolean NOT NULL DEFAULT false;

-- Where `countersign redact rescan` got to in each table, per rules version, so
-- an interrupted rescan resumes after the last batch it committed.
CREATE TABLE redact_rescan (
    table_name text        NOT NULL,
    rules      text        NOT NULL,
    last_id    bigint      NOT NULL,
    changed    bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, rules)
);

-- +goose Down
DROP TABLE redact_rescan;
ALTER TABLE cases DROP COLUMN restricted;
ALTER TABLE cases DROP COLUMN suppressed;
ALTER TABLE calls DROP COLUMN restricted;
DROP TABLE vault_entries;
