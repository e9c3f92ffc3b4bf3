-- Calls are partitioned by month of arrival (received_at, UTC), so that old months
-- can be dropped whole by `countersign retention` instead of deleted row by row.
--
-- What partitioning changes:
-- * A unique index on a partitioned table must contain the partition key, so the
--   DialNexa call id can no longer be unique in calls itself. call_keys holds it
--   (and is the index to look a call up by its DialNexa id):
--   one small unpartitioned row per call (DialNexa id → call id and month). Ingest
--   claims the key and upserts the call in one statement (internal/ingest).
-- * The primary key is (id, received_at); ids still come from calls_id_seq and stay
--   unique on their own.
-- * cases.call_id no longer has a foreign key: a foreign key to a partitioned table
--   must name its partition key, and retention may drop a month of calls while
--   their (closed) cases remain. Retention refuses a month that still has open cases.
--
-- cs_ensure_month_partitions(parent, first, last) creates the missing monthly
-- partitions <parent>_yYYYYmMM for every month from first to last (UTC bounds). A
-- DEFAULT partition catches anything outside them, so an insert never fails for want
-- of a partition; a month whose rows already sit in the default partition is skipped
-- with a notice (its rows stay where they are). Every process calls the function at
-- start and daily for the current month and the next three.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION cs_ensure_month_partitions(parent regclass, first_month date, last_month date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m       date := date_trunc('month', first_month)::date;
    lo      timestamptz;
    hi      timestamptz;
    part    text;
    def     regclass := to_regclass(parent::text || '_default');
    created integer := 0;
    stray   boolean;
BEGIN
    WHILE m <= last_month LOOP
        part := format('%s_y%sm%s', parent::text, to_char(m, 'YYYY'), to_char(m, 'MM'));
        IF to_regclass(part) IS NULL THEN
            lo := m::timestamp AT TIME ZONE 'UTC';
            hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
            stray := false;
            IF def IS NOT NULL THEN
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= $1 AND %I < $2)', def,
                        cs_partition_column(parent), cs_partition_column(parent))
                   INTO stray USING lo, hi;
            END IF;
            IF stray THEN
                RAISE NOTICE '% not created: rows for that month are in %', part, def;
            ELSE
                EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                        part, parent, lo, hi);
                created := created + 1;
            END IF;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN created;
END;
$$;
-- +goose StatementEnd

-- The partition key column of a range-partitioned table with one key column.
-- +goose StatementBegin
CREATE FUNCTION cs_partition_column(parent regclass) RETURNS name
LANGUAGE sql STABLE AS $$
    SELECT a.attname FROM pg_partitioned_table p
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = parent;
$$;
-- +goose StatementEnd

ALTER TABLE cases DROP CONSTRAINT cases_call_id_fkey;
DROP TRIGGER calls_search_maintain ON calls;
ALTER TABLE calls RENAME TO calls_unpartitioned;
ALTER INDEX calls_pkey RENAME TO calls_unpartitioned_pkey;
ALTER INDEX calls_customer_email RENAME TO calls_unpartitioned_customer_email;
ALTER INDEX calls_customer_number RENAME TO calls_unpartitioned_customer_number;
ALTER INDEX calls_customer_ref RENAME TO calls_unpartitioned_customer_ref;
ALTER TABLE calls_unpartitioned RENAME CONSTRAINT calls_dialnexa_id_key TO calls_unpartitioned_dialnexa_id_key;
ALTER SEQUENCE calls_id_seq OWNED BY NONE;

CREATE TABLE calls (LIKE calls_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (received_at);
ALTER TABLE calls ADD CONSTRAINT calls_pkey PRIMARY KEY (id, received_at);
CREATE INDEX calls_customer_number ON calls (customer_number, received_at DESC);
CREATE INDEX calls_customer_email ON calls (lower(customer_email), received_at DESC) WHERE customer_email <> '';
CREATE INDEX calls_customer_ref ON calls (customer_ref, received_at DESC) WHERE customer_ref <> '';
CREATE TABLE calls_default PARTITION OF calls DEFAULT;
SELECT cs_ensure_month_partitions('calls',
    COALESCE((SELECT min(received_at) AT TIME ZONE 'UTC' FROM calls_unpartitioned), now() AT TIME ZONE 'UTC')::date,
    ((now() AT TIME ZONE 'UTC') + interval '3 months')::date);

CREATE TABLE call_keys (
    dialnexa_id text        PRIMARY KEY,
    call_id     bigint      NOT NULL UNIQUE,
    received_at timestamptz NOT NULL       -- the month the call's row lives in
);

INSERT INTO calls SELECT * FROM calls_unpartitioned;
INSERT INTO call_keys (dialnexa_id, call_id, received_at)
    SELECT dialnexa_id, id, received_at FROM calls_unpartitioned;
DROP TABLE calls_unpartitioned;
ALTER SEQUENCE calls_id_seq OWNED BY calls.id;

CREATE TRIGGER calls_search_maintain
    AFTER UPDATE OF summary, transcript_text, customer_name, customer_email, customer_ref ON calls
    FOR EACH ROW
    WHEN (OLD.summary IS DISTINCT FROM NEW.summary
       OR OLD.transcript_text IS DISTINCT FROM NEW.transcript_text
       OR OLD.customer_name IS DISTINCT FROM NEW.customer_name
       OR OLD.customer_email IS DISTINCT FROM NEW.customer_email
       OR OLD.customer_ref IS DISTINCT FROM NEW.customer_ref)
    EXECUTE FUNCTION console_calls_search_trigger();

-- +goose Down
DROP TRIGGER calls_search_maintain ON calls;
ALTER TABLE calls RENAME TO calls_partitioned;
ALTER INDEX calls_pkey RENAME TO calls_partitioned_pkey;
ALTER INDEX calls_customer_email RENAME TO calls_partitioned_customer_email;
ALTER INDEX calls_customer_number RENAME TO calls_partitioned_customer_number;
ALTER INDEX calls_customer_ref RENAME TO calls_partitioned_customer_ref;
ALTER SEQUENCE calls_id_seq OWNED BY NONE;
CREATE TABLE calls (LIKE calls_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE calls ADD PRIMARY KEY (id), ADD CONSTRAINT calls_dialnexa_id_key UNIQUE (dialnexa_id);
INSERT INTO calls SELECT * FROM calls_partitioned;
DROP TABLE calls_partitioned, call_keys;
ALTER SEQUENCE calls_id_seq OWNED BY calls.id;
CREATE INDEX calls_customer_number ON calls (customer_number, received_at DESC);
CREATE INDEX calls_customer_email ON calls (lower(customer_email), received_at DESC) WHERE customer_email <> '';
CREATE INDEX calls_customer_ref ON calls (customer_ref, received_at DESC) WHERE customer_ref <> '';
ALTER TABLE cases ADD CONSTRAINT cases_call_id_fkey FOREIGN KEY (call_id) REFERENCES calls(id);
CREATE TRIGGER calls_search_maintain
    AFTER UPDATE OF summary, transcript_text, customer_name, customer_email, customer_ref ON calls
    FOR EACH ROW
    WHEN (OLD.summary IS DISTINCT FROM NEW.summary
       OR OLD.transcript_text IS DISTINCT FROM NEW.transcript_text
       OR OLD.customer_name IS DISTINCT FROM NEW.customer_name
       OR OLD.customer_email IS DISTINCT FROM NEW.customer_email
       OR OLD.customer_ref IS DISTINCT FROM NEW.customer_ref)
    EXECUTE FUNCTION console_calls_search_trigger();
DROP FUNCTION cs_ensure_month_partitions(regclass, date, date);
DROP FUNCTION cs_partition_column(regclass);
