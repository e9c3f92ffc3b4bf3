-- Jobs that follow a webhook (a claim check per new case, a backfill for a completed
-- call that came without transcript and analysis) are written to this outbox by the
-- ingest transaction instead of being inserted into River there: River's insert was
-- a tenth of the webhook's CPU and two of its round trips. A dispatcher in every
-- worker process (internal/jobs.Service.RunOutbox) deletes rows and inserts their
-- River jobs in one transaction, so each row becomes exactly one job, usually within
-- milliseconds (it is woken in-process after each commit and polls otherwise).

-- +goose Up
CREATE TABLE job_outbox (
    id         bigserial   PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('enrich', 'backfill')),
    case_id    bigint,
    call_id    bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT job_outbox_target CHECK ((kind = 'enrich') = (case_id IS NOT NULL)
                                    AND (kind = 'backfill') = (call_id IS NOT NULL))
);

-- +goose Down
DROP TABLE job_outbox;
