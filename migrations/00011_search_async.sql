-- Full-text vectors are computed off the request path. Computing a case's tsvector
-- (summary plus transcript) and inserting it into the GIN index inside the webhook's
-- transaction was the largest remaining cost of ingestion (p99 at 1,000 deliveries/s:
-- ~600 ms with it, ~100 ms without). The triggers now only mark a case's vector stale
-- (NULL); the indexer in every process (internal/console.RunIndexer) fills stale
-- vectors in small batches within about a second.

-- +goose Up
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

CREATE INDEX cases_search_stale ON cases (id) WHERE search IS NULL;

-- +goose Down
DROP INDEX cases_search_stale;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION console_cases_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := console_case_search(NEW.call_id, NEW.customer_label, NEW.destination_ref);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION console_calls_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search = console_case_search(call_id, customer_label, destination_ref)
     WHERE call_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
UPDATE cases SET search = console_case_search(call_id, customer_label, destination_ref) WHERE search IS NULL;
