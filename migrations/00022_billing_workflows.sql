-- +goose Up
-- Billing workflows (issue 15).
--
-- A claim check explains its confidence line by line and says why it routed the
-- case to review (internal/enrich).
ALTER TABLE claim_checks
    ADD COLUMN score jsonb NOT NULL DEFAULT '[]',  -- [{points, why}], summing to confidence
    ADD COLUMN route jsonb NOT NULL DEFAULT '[]';  -- ["amount 500.00 USD claimed, the ledger has 50.00 USD ..."]

-- Finance alerts raised at ingest and on events, separate from approval
-- (internal/jobs/casealerts.go): one Slack message per call and reason, later
-- changes of the case as replies in its thread.
CREATE TABLE case_alerts (
    id          bigserial   PRIMARY KEY,
    case_id     bigint      NOT NULL REFERENCES cases(id),
    call_ref    text        NOT NULL,               -- the DialNexa call id
    reason      text        NOT NULL,               -- vip_blocker | duplicate_charge | chargeback | renewal_failure | approval_deadline | awaiting_approval
    status      text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'posted', 'failed')),
    channel     text        NOT NULL DEFAULT '',
    thread_ts   text        NOT NULL DEFAULT '',    -- the message ts: replies go in its thread
    text        text        NOT NULL,
    last_error  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    posted_at   timestamptz,
    CONSTRAINT case_alerts_once UNIQUE (call_ref, reason)
);
CREATE INDEX case_alerts_case ON case_alerts (case_id);

CREATE TABLE case_alert_updates (
    id          bigserial   PRIMARY KEY,
    alert_id    bigint      NOT NULL REFERENCES case_alerts(id),
    event       text        NOT NULL,               -- the case status it reports: approved, executing, done, rejected, ...
    status      text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'posted', 'failed')),
    ts          text        NOT NULL DEFAULT '',
    text        text        NOT NULL,
    last_error  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT case_alert_updates_once UNIQUE (alert_id, event)
);

-- The ingest transaction also writes an 'alerts' outbox row for a case that may
-- need an alert (a VIP, a dispute, a payment blocker).
ALTER TABLE job_outbox DROP CONSTRAINT job_outbox_kind_check, DROP CONSTRAINT job_outbox_target;
ALTER TABLE job_outbox
    ADD CONSTRAINT job_outbox_kind_check CHECK (kind IN ('enrich', 'backfill', 'alerts')),
    ADD CONSTRAINT job_outbox_target CHECK ((kind IN ('enrich', 'alerts')) = (case_id IS NOT NULL)
                                        AND (kind = 'backfill') = (call_id IS NOT NULL));

-- The brief's capture list, typed, each value with the transcript line it came
-- from: {"tax_region": {"value": "EU-DE", "passage": "User: ..."}, ...}.
ALTER TABLE cases ADD COLUMN capture jsonb NOT NULL DEFAULT '{}';

-- The exception review queue kept in Google Sheets (internal/jobs/exceptions.go):
-- one row per case and reason, open while the exception stands, resolved in place.
CREATE TABLE exception_rows (
    id          bigserial   PRIMARY KEY,
    case_id     bigint      NOT NULL REFERENCES cases(id),
    reason      text        NOT NULL CHECK (reason IN ('review', 'failed_action', 'policy_exception')),
    status      text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    detail      text        NOT NULL DEFAULT '',
    opened_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    synced      text        NOT NULL DEFAULT '',   -- the status last written to the sheet
    sheet_range text        NOT NULL DEFAULT '',
    CONSTRAINT exception_rows_once UNIQUE (case_id, reason)
);

-- +goose Down
DELETE FROM job_outbox WHERE kind = 'alerts';
ALTER TABLE job_outbox DROP CONSTRAINT job_outbox_kind_check, DROP CONSTRAINT job_outbox_target;
ALTER TABLE job_outbox
    ADD CONSTRAINT job_outbox_kind_check CHECK (kind IN ('enrich', 'backfill')),
    ADD CONSTRAINT job_outbox_target CHECK ((kind = 'enrich') = (case_id IS NOT NULL)
                                        AND (kind = 'backfill') = (call_id IS NOT NULL));
DROP TABLE exception_rows, case_alert_updates, case_alerts;
ALTER TABLE cases DROP COLUMN capture;
ALTER TABLE claim_checks DROP COLUMN score, DROP COLUMN route;
