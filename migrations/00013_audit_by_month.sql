-- The audit log is partitioned by month of append (at, UTC), like calls
-- (00012_calls_by_month.sql): partitions audit_log_yYYYYmMM made by
-- cs_ensure_month_partitions, plus audit_log_default for anything outside them, so
-- that `countersign retention` can drop a whole old month after exporting it, instead
-- of deleting rows (which the triggers refuse). Every existing row is copied, with its
-- id, seq and hashes, so the chain verifies exactly as before.
--
-- What partitioning changes:
-- * Keys must contain the partition key. The primary key is (id, at); ids still come
--   from audit_log_id_seq and stay unique on their own.
-- * seq and hash are no longer UNIQUE. A unique index on a partitioned table must
--   include "at", and UNIQUE (seq, at) or (hash, at) would promise nothing (any two
--   entries differ in at). What keeps the chain single and gapless is unchanged: one
--   sealer at a time under the advisory lock (internal/audit.LockKey), reading the last
--   seq under it; the sealer also re-counts the seqs it wrote before committing
--   (ErrChainMoved if another writer used them). A duplicate, a gap or a fork is still
--   found by `audit verify`, which walks seq order; the constraint was a second guard,
--   not the proof. seq gets a plain partitioned index (head lookup, verify/export scans
--   by seq); nothing looks rows up by hash, so hash gets none.
-- * Gaps: retention drops whole months. It first exports the month (JSON lines, sha256)
--   and records, in a sealed "audit.retention" entry, the seqs dropped and the (seq,
--   hash) of every dropped entry that a kept entry links to, so verify accepts exactly
--   those gaps (see internal/retention and internal/audit/retention.go).
-- * Append-only. The row-level trigger is declared on the parent; Postgres clones it
--   onto every partition, present and future, so UPDATE and DELETE on a partition are
--   refused too. Statement-level TRUNCATE triggers are not cloned: TRUNCATE of a
--   partition by name would get through. cs_clone_truncate_triggers(parent) copies the
--   parent's statement-level TRUNCATE triggers onto every partition lacking them; this
--   migration runs it, and internal/retention.EnsurePartitions runs it after creating
--   partitions (call it too if you ever call cs_ensure_month_partitions by hand).
--   DROP/DETACH of a partition is DDL, which no trigger can refuse to the owner; a
--   partition dropped outside retention shows as a gap that no retention entry covers.
-- * The sealer's queue stays a small partial index (id WHERE seq IS NULL) on every
--   partition; the seal UPDATE names (id, at), so it touches one partition per row.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION cs_clone_truncate_triggers(parent regclass) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    trg     record;
    part    regclass;
    created integer := 0;
BEGIN
    FOR trg IN SELECT t.tgname, t.tgtype, t.tgfoid::regproc AS fn FROM pg_trigger t
                WHERE t.tgrelid = parent AND NOT t.tgisinternal AND t.tgparentid = 0
                  AND t.tgtype & 32 <> 0      -- TRUNCATE
                  AND t.tgtype & 1 = 0        -- FOR EACH STATEMENT
                  AND t.tgnargs = 0
    LOOP
        FOR part IN SELECT i.inhrelid::regclass FROM pg_inherits i WHERE i.inhparent = parent LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_trigger x WHERE x.tgrelid = part AND x.tgname = trg.tgname) THEN
                EXECUTE format('CREATE TRIGGER %I %s TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                        trg.tgname, CASE WHEN trg.tgtype & 2 <> 0 THEN 'BEFORE' ELSE 'AFTER' END, part, trg.fn);
                created := created + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN created;
END;
$$;
-- +goose StatementEnd

ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER INDEX audit_log_pkey RENAME TO audit_log_unpartitioned_pkey;
ALTER INDEX audit_log_seq_key RENAME TO audit_log_unpartitioned_seq_key;
ALTER INDEX audit_log_hash_key RENAME TO audit_log_unpartitioned_hash_key;
ALTER INDEX audit_log_object RENAME TO audit_log_unpartitioned_object;
ALTER INDEX audit_log_actor RENAME TO audit_log_unpartitioned_actor;
ALTER INDEX audit_log_action RENAME TO audit_log_unpartitioned_action;
ALTER INDEX audit_log_at RENAME TO audit_log_unpartitioned_at;
ALTER INDEX audit_log_unsealed RENAME TO audit_log_unpartitioned_unsealed;
ALTER SEQUENCE audit_log_id_seq OWNED BY NONE;

CREATE TABLE audit_log (
    id          bigint      NOT NULL DEFAULT nextval('audit_log_id_seq'),
    seq         bigint      CONSTRAINT audit_log_seq_check CHECK (seq > 0),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    actor_id    bigint,
    action      text        NOT NULL,
    object_type text        NOT NULL DEFAULT '',
    object_id   text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL DEFAULT 'ok',
    summary     jsonb       NOT NULL DEFAULT '{}',
    request_id  text        NOT NULL DEFAULT '',
    ip          text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    prev_hash   bytea,
    hash        bytea,
    sealed_at   timestamptz,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id, at),
    -- A row is either unsealed (all four NULL) or sealed (none NULL).
    CONSTRAINT audit_log_sealed_whole CHECK (
        (seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)
        AND (seq IS NULL) = (sealed_at IS NULL))
) PARTITION BY RANGE (at);
CREATE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);
-- The sealer's queue: small, because rows leave it within a sealing interval.
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
SELECT cs_ensure_month_partitions('audit_log',
    COALESCE((SELECT min(at) AT TIME ZONE 'UTC' FROM audit_log_unpartitioned), now() AT TIME ZONE 'UTC')::date,
    ((now() AT TIME ZONE 'UTC') + interval '3 months')::date);

INSERT INTO audit_log (id, seq, at, actor, actor_id, action, object_type, object_id, outcome, summary,
        request_id, ip, user_agent, prev_hash, hash, sealed_at)
    SELECT id, seq, at, actor, actor_id, action, object_type, object_id, outcome, summary,
        request_id, ip, user_agent, prev_hash, hash, sealed_at
      FROM audit_log_unpartitioned;
DROP TABLE audit_log_unpartitioned;
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;

-- The same refusals as 00004_audit.sql (the function is unchanged): the row trigger
-- is cloned onto every partition; the TRUNCATE trigger is copied onto each partition.
CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
SELECT cs_clone_truncate_triggers('audit_log');

-- +goose Down
ALTER TABLE audit_log RENAME TO audit_log_partitioned;
ALTER INDEX audit_log_pkey RENAME TO audit_log_partitioned_pkey;
ALTER INDEX audit_log_seq RENAME TO audit_log_partitioned_seq;
ALTER INDEX audit_log_object RENAME TO audit_log_partitioned_object;
ALTER INDEX audit_log_actor RENAME TO audit_log_partitioned_actor;
ALTER INDEX audit_log_action RENAME TO audit_log_partitioned_action;
ALTER INDEX audit_log_at RENAME TO audit_log_partitioned_at;
ALTER INDEX audit_log_unsealed RENAME TO audit_log_partitioned_unsealed;
ALTER SEQUENCE audit_log_id_seq OWNED BY NONE;

CREATE TABLE audit_log (
    id          bigint      PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    seq         bigint      CONSTRAINT audit_log_seq_key UNIQUE CONSTRAINT audit_log_seq_check CHECK (seq > 0),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    actor_id    bigint,
    action      text        NOT NULL,
    object_type text        NOT NULL DEFAULT '',
    object_id   text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL DEFAULT 'ok',
    summary     jsonb       NOT NULL DEFAULT '{}',
    request_id  text        NOT NULL DEFAULT '',
    ip          text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    prev_hash   bytea,
    hash        bytea       UNIQUE,
    sealed_at   timestamptz,
    CONSTRAINT audit_log_sealed_whole CHECK (
        (seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)
        AND (seq IS NULL) = (sealed_at IS NULL))
);
INSERT INTO audit_log (id, seq, at, actor, actor_id, action, object_type, object_id, outcome, summary,
        request_id, ip, user_agent, prev_hash, hash, sealed_at)
    SELECT id, seq, at, actor, actor_id, action, object_type, object_id, outcome, summary,
        request_id, ip, user_agent, prev_hash, hash, sealed_at
      FROM audit_log_partitioned;
DROP TABLE audit_log_partitioned;
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
DROP FUNCTION cs_clone_truncate_triggers(regclass);
