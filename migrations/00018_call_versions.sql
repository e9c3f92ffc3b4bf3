-- Decided calls are not rewritten (issue #16). Once a call has a case that left 'new',
-- a delivery that would change what the case rests on (amount, currency, invoice,
-- payment id, customer, email) is kept here as a new version of the call instead of
-- being merged into calls; the cases it would have changed are flagged.
--
-- calls is partitioned by month, so call_versions names its call by (call_id,
-- call_received_at) without a foreign key, as call_keys does; rows are removed with
-- their calls' months by retention (internal/retention).

-- +goose Up
CREATE TABLE call_versions (
    id               bigserial   PRIMARY KEY,
    call_id          bigint      NOT NULL,
    call_received_at timestamptz NOT NULL,
    delivery_id      bigint      NOT NULL REFERENCES webhook_deliveries (id),
    received_at      timestamptz NOT NULL,
    -- field name -> {"was": stored value, "now": delivered value}, redacted as stored
    changed          jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT '',
    summary          text        NOT NULL DEFAULT '',
    transcript_text  text        NOT NULL DEFAULT '',
    fields           jsonb       NOT NULL DEFAULT '{}',
    customer_name    text        NOT NULL DEFAULT '',
    customer_email   text        NOT NULL DEFAULT '',
    customer_number  text        NOT NULL DEFAULT ''
);
CREATE INDEX call_versions_call ON call_versions (call_id, id);

-- When DialNexa last changed the call after the case was decided (NULL: never).
ALTER TABLE cases ADD COLUMN call_changed_at timestamptz;

-- Deduplication now compares the event kind and a normalised status, where an ended
-- event, and every terminal status (completed, hangup, ended, failed, ...), is one
-- class: rewrite existing keys (id:kind:status) to that form, keeping the earliest
-- delivery of each new key (internal/ingest DedupKey, internal/dialnexa StatusClass).
UPDATE webhook_deliveries w SET dedup_key = n.key
FROM (
    SELECT id, dedup_key, key,
        row_number() OVER (PARTITION BY source, key ORDER BY (key = dedup_key) DESC, id) AS rn
    FROM (
        SELECT id, source, dedup_key,
            regexp_replace(dedup_key, ':[^:]*$', '') || ':' ||
            CASE WHEN kind = 'ended' OR call_status_rank(s) = 4 THEN 'ended' ELSE s END AS key
        FROM (SELECT id, source, dedup_key,
                substring(dedup_key FROM ':([^:]*):[^:]*$') AS kind,
                regexp_replace(lower(btrim(substring(dedup_key FROM ':([^:]*)$'))), '[\s_-]+', '_', 'g') AS s
              FROM webhook_deliveries WHERE source = 'dialnexa' AND dedup_key IS NOT NULL) t
    ) u
) n
WHERE w.id = n.id AND n.rn = 1 AND n.key <> n.dedup_key;

-- +goose Down
ALTER TABLE cases DROP COLUMN call_changed_at;
DROP TABLE call_versions;
