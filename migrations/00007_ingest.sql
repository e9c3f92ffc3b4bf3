-- Ingest helpers: the forward-only order of call statuses used by the call upsert.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION call_status_rank(status text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN '' THEN 0
        WHEN 'initiated' THEN 1
        WHEN 'ringing' THEN 2
        WHEN 'in_progress' THEN 2
        WHEN 'ongoing' THEN 2
        WHEN 'transferred' THEN 3
        ELSE 4 -- completed, hangup, ended, failed, no_answer...: terminal
    END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION call_status_rank(text);
