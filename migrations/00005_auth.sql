-- Sign-in bookkeeping: OIDC state values already redeemed at the callback, so a
-- replayed callback is refused even while its login cookie still verifies. Only a
-- SHA-256 of the state is kept, and only for an hour (login cookies live 10 minutes).

-- +goose Up
CREATE TABLE oidc_used_states (
    id      text        PRIMARY KEY,            -- hex sha256 of the state value
    used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oidc_used_states_used_at ON oidc_used_states (used_at);

-- Sessions are looked up by id on every request; expired and revoked ones are kept
-- for the admin page's counts and investigations. This index serves "active sessions
-- per user" on the admin page.
CREATE INDEX sessions_user_active ON sessions (user_id, expires_at) WHERE revoked_at IS NULL;

-- +goose Down
DROP INDEX sessions_user_active;
DROP TABLE oidc_used_states;
