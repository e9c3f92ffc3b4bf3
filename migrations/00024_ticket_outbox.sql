-- A case's Zendesk ticket follows the case: when the case moves (done, rejected) or
-- its dispute closes, the transaction that moves it writes a 'ticket' outbox row
-- naming the case and the event, and the dispatcher turns it into one River job
-- (internal/jobs, unique by case and event) that comments on and re-statuses the
-- ticket. No Zendesk call happens inside the status transaction.

-- +goose Up
ALTER TABLE job_outbox ADD COLUMN event text;
ALTER TABLE job_outbox DROP CONSTRAINT job_outbox_kind_check;
ALTER TABLE job_outbox ADD CONSTRAINT job_outbox_kind_check CHECK (kind IN ('enrich', 'backfill', 'alerts', 'ticket'));
ALTER TABLE job_outbox DROP CONSTRAINT job_outbox_target;
ALTER TABLE job_outbox ADD CONSTRAINT job_outbox_target CHECK (
    (kind IN ('enrich', 'alerts', 'ticket')) = (case_id IS NOT NULL)
    AND (kind = 'backfill') = (call_id IS NOT NULL)
    AND (kind = 'ticket') = (event IS NOT NULL));

-- +goose Down
DELETE FROM job_outbox WHERE kind = 'ticket';
ALTER TABLE job_outbox DROP CONSTRAINT job_outbox_target;
ALTER TABLE job_outbox ADD CONSTRAINT job_outbox_target CHECK ((kind IN ('enrich', 'alerts')) = (case_id IS NOT NULL)
                                    AND (kind = 'backfill') = (call_id IS NOT NULL));
ALTER TABLE job_outbox DROP CONSTRAINT job_outbox_kind_check;
ALTER TABLE job_outbox ADD CONSTRAINT job_outbox_kind_check CHECK (kind IN ('enrich', 'backfill', 'alerts'));
ALTER TABLE job_outbox DROP COLUMN event;
