-- Tamper-evident audit log: one hash chain, written in two phases (see
-- internal/audit/doc.go).
--
-- 1. internal/audit.Append inserts an unsealed row inside the caller's transaction:
--    id (from a sequence, so it may have gaps: a rolled-back insert uses one up), at,
--    and the content. seq, prev_hash, hash and sealed_at are NULL. No lock is taken,
--    so audited transactions do not wait on each other.
-- 2. internal/audit.Seal, one sealer at a time under an advisory lock, takes committed
--    unsealed rows in id order and sets seq (1, 2, 3, ... with no gaps, so a gap means
--    a deleted row), prev_hash, hash and sealed_at in one UPDATE. That UPDATE is the
--    only change the trigger below lets through, and only once per row.
--
-- actor_id deliberately has no foreign key: an audit row must never block or cascade
-- from a change to users.

-- +goose Up
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    seq         bigint      UNIQUE CHECK (seq > 0),
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
    prev_hash   bytea,
    hash        bytea       UNIQUE,
    sealed_at   timestamptz,
    -- A row is either unsealed (all four NULL) or sealed (none NULL).
    CONSTRAINT audit_log_sealed_whole CHECK (
        (seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)
        AND (seq IS NULL) = (sealed_at IS NULL))
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);
-- The sealer's queue: small, because rows leave it within a sealing interval.
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

-- Refusals use SQLSTATE 42501 (insufficient_privilege), so callers see "permission
-- denied" even when the application role owns the table. Only the owner can get past
-- them (ALTER TABLE ... DISABLE TRIGGER), and the hash chain plus exported heads catch
-- that for sealed rows.
-- +goose StatementBegin
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The one UPDATE allowed: sealing an unsealed row, once, changing nothing else.
    -- (Nested, so that OLD and NEW are read only in an UPDATE.)
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
           AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
           AND (NEW.id, NEW.at, NEW.actor, NEW.actor_id, NEW.action, NEW.object_type,
                NEW.object_id, NEW.outcome, NEW.summary, NEW.request_id, NEW.ip, NEW.user_agent)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.actor, OLD.actor_id, OLD.action, OLD.object_type,
                OLD.object_id, OLD.outcome, OLD.summary, OLD.request_id, OLD.ip, OLD.user_agent)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'permission denied: audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit entries are written once by internal/audit.Append, sealed once by '
                     || 'internal/audit.Seal, and never changed';
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
