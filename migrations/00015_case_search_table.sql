-- Full-text vectors move out of cases into case_search, and the queue of stale
-- vectors into case_search_stale. Writing a vector into cases.search was an update
-- of an indexed column, so Postgres rewrote the case row and added an entry to each
-- of its seventeen indexes for every vector computed, and the indexer held row locks
-- on up to 500 cases for the length of its statement (hundreds of milliseconds),
-- which the claim checks, decisions and webhooks touching those cases waited for.
-- Now the indexer only touches these two tables: it deletes a batch of stale ids
-- and upserts their vectors in one statement; cases are never locked by it.
--
-- case_search has no foreign key to cases on purpose: the key check would take a
-- KEY SHARE lock on the case, which conflicts with the decisions' FOR UPDATE.

-- +goose Up
CREATE TABLE case_search (
    case_id bigint   PRIMARY KEY,
    search  tsvector NOT NULL
);
CREATE TABLE case_search_stale (
    case_id bigint PRIMARY KEY
);

INSERT INTO case_search (case_id, search) SELECT id, search FROM cases WHERE search IS NOT NULL;
INSERT INTO case_search_stale (case_id) SELECT id FROM cases WHERE search IS NULL;
CREATE INDEX case_search_vector ON case_search USING gin (search);

DROP TRIGGER cases_search_maintain ON cases;
ALTER TABLE cases DROP COLUMN search; -- with cases_search and cases_search_stale

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION console_cases_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_search_stale (case_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION console_calls_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_search_stale (case_id) SELECT id FROM cases WHERE call_id = NEW.id
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER cases_search_maintain
    AFTER INSERT OR UPDATE OF call_id, customer_label, destination_ref ON cases
    FOR EACH ROW EXECUTE FUNCTION console_cases_search_trigger();

-- +goose Down
DROP TRIGGER cases_search_maintain ON cases;
ALTER TABLE cases ADD COLUMN search tsvector;
UPDATE cases c SET search = s.search FROM case_search s WHERE s.case_id = c.id;
CREATE INDEX cases_search ON cases USING gin (search);
CREATE INDEX cases_search_stale ON cases (id) WHERE search IS NULL;
DROP TABLE case_search, case_search_stale;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION console_cases_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := NULL;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION console_calls_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search = NULL WHERE call_id = NEW.id AND search IS NOT NULL;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER cases_search_maintain
    BEFORE INSERT OR UPDATE OF call_id, customer_label, destination_ref ON cases
    FOR EACH ROW EXECUTE FUNCTION console_cases_search_trigger();
