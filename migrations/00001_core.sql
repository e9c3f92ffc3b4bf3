-- Core schema: people and sessions, webhook deliveries, calls, cases, notes.
-- Times are timestamptz (UTC); money is bigint minor units plus an ISO 4217 code.

-- +goose Up
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    issuer        text        NOT NULL,
    subject       text        NOT NULL,
    email         text        NOT NULL DEFAULT '',
    name          text        NOT NULL DEFAULT '',
    roles         text[]      NOT NULL DEFAULT '{}',
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    CONSTRAINT users_identity UNIQUE (issuer, subject)
);

-- Server-side session records: the cookie carries only the id, so logout, disabling a
-- user or removing a role takes effect on the next request everywhere.
CREATE TABLE sessions (
    id           text        PRIMARY KEY,          -- sha256 of the random cookie token, hex
    user_id      bigint      NOT NULL REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,             -- absolute lifetime
    auth_time    timestamptz NOT NULL,             -- when the IdP last authenticated the user
    revoked_at   timestamptz,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Every webhook delivery that passed signature verification, redacted.
CREATE TABLE webhook_deliveries (
    id          bigserial   PRIMARY KEY,
    source      text        NOT NULL,              -- 'dialnexa', 'stripe'
    received_at timestamptz NOT NULL DEFAULT now(),
    raw_sha256  bytea       NOT NULL,
    event_type  text        NOT NULL DEFAULT '',
    call_ref    text        NOT NULL DEFAULT '',   -- DialNexa call id, Stripe event id
    dedup_key   text,                              -- permanent replay guard; NULL for rejected/ignored
    outcome     text        NOT NULL,              -- stored | ignored | rejected
    error       text        NOT NULL DEFAULT '',
    body        jsonb,                             -- redacted body (NULL when not JSON)
    body_text   text        NOT NULL DEFAULT '',   -- redacted raw text when the body is not JSON
    suppressed  jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT webhook_deliveries_dedup UNIQUE (source, dedup_key)
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at DESC);

CREATE TABLE calls (
    id                   bigserial   PRIMARY KEY,
    dialnexa_id          text        NOT NULL UNIQUE,
    direction            text        NOT NULL DEFAULT '',
    call_type            text        NOT NULL DEFAULT '',
    status               text        NOT NULL DEFAULT '',   -- initiated | completed | hangup | ...
    category             text        NOT NULL DEFAULT '',
    from_number          text        NOT NULL DEFAULT '',   -- E.164
    to_number            text        NOT NULL DEFAULT '',
    customer_number      text        NOT NULL DEFAULT '',   -- the caller for inbound, the callee for outbound
    agent_id             text        NOT NULL DEFAULT '',
    initiated_at         timestamptz,
    ended_at             timestamptz,
    duration_seconds     integer,
    hangup_reason        text        NOT NULL DEFAULT '',
    transfer             jsonb,
    summary              text        NOT NULL DEFAULT '',   -- redacted
    transcript           jsonb       NOT NULL DEFAULT '[]', -- redacted speaker turns
    transcript_text      text        NOT NULL DEFAULT '',   -- redacted, for search
    recording_url        text        NOT NULL DEFAULT '',
    recording_expires_at timestamptz,
    fields               jsonb       NOT NULL DEFAULT '{}', -- extracted fields, typed, redacted
    amount_minor         bigint,
    currency             text        NOT NULL DEFAULT '',
    customer_name        text        NOT NULL DEFAULT '',
    customer_email       text        NOT NULL DEFAULT '',
    customer_ref         text        NOT NULL DEFAULT '',   -- billing-system customer id when known
    vip                  boolean     NOT NULL DEFAULT false,
    suppressed           jsonb       NOT NULL DEFAULT '{}', -- kind -> count of suppressed values
    received_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_customer_number ON calls (customer_number, received_at DESC);
CREATE INDEX calls_customer_email ON calls (lower(customer_email), received_at DESC) WHERE customer_email <> '';

CREATE TABLE cases (
    id                 bigserial   PRIMARY KEY,
    call_id            bigint      NOT NULL REFERENCES calls(id),
    kind               text        NOT NULL,
    status             text        NOT NULL DEFAULT 'new',
    urgency            smallint    NOT NULL DEFAULT 1,     -- 0 low .. 3 critical
    vip                boolean     NOT NULL DEFAULT false,
    confidence         real        NOT NULL DEFAULT 0,
    reasons            jsonb       NOT NULL DEFAULT '[]',
    suspected_kind     text        NOT NULL DEFAULT '',    -- for review cases: the best guess
    amount_minor       bigint,
    currency           text        NOT NULL DEFAULT '',
    destination_type   text        NOT NULL DEFAULT '',
    destination_ref    text        NOT NULL DEFAULT '',
    customer_label     text        NOT NULL DEFAULT '',
    owner              text        NOT NULL DEFAULT '',    -- finance owner by kind, from configuration
    assignee_id        bigint      REFERENCES users(id),
    next_step          text        NOT NULL DEFAULT '',
    follow_up_deadline timestamptz,
    record_url         text        NOT NULL DEFAULT '',
    tags               text[]      NOT NULL DEFAULT '{}',
    reviewed           boolean     NOT NULL DEFAULT false,
    search             tsvector,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cases_one_per_kind UNIQUE (call_id, kind)
);
CREATE INDEX cases_queue ON cases (kind, urgency DESC, id DESC) WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_open ON cases (urgency DESC, id DESC) WHERE status NOT IN ('done', 'rejected');
CREATE INDEX cases_assignee ON cases (assignee_id, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_deadline ON cases (follow_up_deadline) WHERE follow_up_deadline IS NOT NULL;
CREATE INDEX cases_created ON cases (created_at DESC, id DESC);
CREATE INDEX cases_search ON cases USING gin (search);

CREATE TABLE notes (
    id         bigserial   PRIMARY KEY,
    case_id    bigint      NOT NULL REFERENCES cases(id),
    author_id  bigint      NOT NULL REFERENCES users(id),
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_case ON notes (case_id, id);

CREATE TABLE mentions (
    note_id bigint      NOT NULL REFERENCES notes(id),
    user_id bigint      NOT NULL REFERENCES users(id),
    read_at timestamptz,
    PRIMARY KEY (note_id, user_id)
);
CREATE INDEX mentions_unread ON mentions (user_id) WHERE read_at IS NULL;

CREATE TABLE saved_views (
    id         bigserial   PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users(id),
    name       text        NOT NULL,
    query      text        NOT NULL,      -- the queue URL's path and query string
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT saved_views_name UNIQUE (user_id, name)
);

-- +goose Down
DROP TABLE saved_views, mentions, notes, cases, calls, webhook_deliveries, sessions, users;
