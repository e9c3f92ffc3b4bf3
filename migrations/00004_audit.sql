-- Tamper-evident audit log: one hash chain, append-only (see internal/audit/doc.go).
-- seq is assigned by internal/audit.Append under an advisory lock, not by a sequence,
-- so it has no gaps (a sequence skips numbers on rollback) and a gap means a deleted row.
-- actor_id deliberately has no foreign key: an audit row must never block or cascade
-- from a change to users.

-- +goose Up
CREATE TABLE audit_log (
    seq         bigint      PRIMARY KEY CHECK (seq > 0),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,              -- 'user:42 fiona@example.com', 'system', 'dialnexa'
    actor_id    bigint,
    action      text        NOT NULL,              -- 'case.assigned', 'approval.approved', ...
    object_type text        NOT NULL DEFAULT '',
    object_id   text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL DEFAULT 'ok',
    summary     jsonb       NOT NULL DEFAULT '{}', -- redacted before/after
    request_id  text        NOT NULL DEFAULT '',
    ip          text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    prev_hash   bytea       NOT NULL,
    hash        bytea       NOT NULL UNIQUE
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- Refusals use SQLSTATE 42501 (insufficient_privilege), so callers see "permission
-- denied" even when the application role owns the table. Only the owner can get past
-- them (ALTER TABLE ... DISABLE TRIGGER), and the hash chain plus exported heads catch that.
-- +goose StatementBegin
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'permission denied: audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit entries are written once by internal/audit.Append and never changed';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
