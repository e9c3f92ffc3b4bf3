-- Console: full-text search maintained by triggers, and the partial indexes that keep
-- every queue page a short index scan on open cases (keyset pagination, no OFFSET).
-- Sort keys with NULLs use the same coalesce expressions as internal/console, so one
-- index serves both directions: no deadline sorts as +infinity, no amount as -1.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION console_case_search(p_call_id bigint, p_label text, p_ref text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', coalesce(p_label, '') || ' ' || coalesce(p_ref, '')), 'A')
        || setweight(to_tsvector('english', coalesce(c.customer_name, '') || ' ' || coalesce(c.customer_email, '')
                     || ' ' || coalesce(c.customer_ref, '') || ' ' || coalesce(c.dialnexa_id, '')), 'A')
        || setweight(to_tsvector('english', coalesce(c.summary, '')), 'B')
        || setweight(to_tsvector('english', left(coalesce(c.transcript_text, ''), 200000)), 'D')
    FROM (SELECT 1) one LEFT JOIN calls c ON c.id = p_call_id
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION console_cases_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := console_case_search(NEW.call_id, NEW.customer_label, NEW.destination_ref);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER cases_search_maintain
    BEFORE INSERT OR UPDATE OF call_id, customer_label, destination_ref ON cases
    FOR EACH ROW EXECUTE FUNCTION console_cases_search_trigger();

-- +goose StatementBegin
CREATE FUNCTION console_calls_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search = console_case_search(call_id, customer_label, destination_ref)
     WHERE call_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER calls_search_maintain
    AFTER UPDATE OF summary, transcript_text, customer_name, customer_email, customer_ref ON calls
    FOR EACH ROW
    WHEN (OLD.summary IS DISTINCT FROM NEW.summary
       OR OLD.transcript_text IS DISTINCT FROM NEW.transcript_text
       OR OLD.customer_name IS DISTINCT FROM NEW.customer_name
       OR OLD.customer_email IS DISTINCT FROM NEW.customer_email
       OR OLD.customer_ref IS DISTINCT FROM NEW.customer_ref)
    EXECUTE FUNCTION console_calls_search_trigger();

UPDATE cases SET search = console_case_search(call_id, customer_label, destination_ref);

-- Queue sorts on open cases, per kind and across kinds. urgency is covered by
-- cases_queue and cases_open from 00001.
CREATE INDEX cases_queue_deadline ON cases (kind, coalesce(follow_up_deadline, 'infinity'::timestamptz), id)
    WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_open_deadline ON cases (coalesce(follow_up_deadline, 'infinity'::timestamptz), id)
    WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_queue_amount ON cases (kind, coalesce(amount_minor, -1), id)
    WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_open_amount ON cases (coalesce(amount_minor, -1), id)
    WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_queue_received ON cases (kind, created_at, id)
    WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_open_received ON cases (created_at, id)
    WHERE status NOT IN ('done', 'rejected');
-- "Assigned to me" and its nav count.
CREATE INDEX cases_open_assignee ON cases (assignee_id, urgency DESC, id DESC)
    WHERE status NOT IN ('done', 'rejected') AND assignee_id IS NOT NULL;
-- Customer history by billing-system customer id.
CREATE INDEX calls_customer_ref ON calls (customer_ref, received_at DESC) WHERE customer_ref <> '';

-- +goose Down
DROP INDEX calls_customer_ref, cases_open_assignee,
    cases_open_received, cases_queue_received, cases_open_amount, cases_queue_amount,
    cases_open_deadline, cases_queue_deadline;
DROP TRIGGER calls_search_maintain ON calls;
DROP TRIGGER cases_search_maintain ON cases;
DROP FUNCTION console_calls_search_trigger();
DROP FUNCTION console_cases_search_trigger();
DROP FUNCTION console_case_search(bigint, text, text);
