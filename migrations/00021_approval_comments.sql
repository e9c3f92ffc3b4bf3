-- Approvers' comments, and approvals held across a step-up sign-in.

-- +goose Up
-- What the approver wrote when approving (required where the policy says).
ALTER TABLE approvals ADD COLUMN comment text NOT NULL DEFAULT '';

-- An approval an approver submitted that waits for their fresh sign-in. When they
-- come back from re-authentication within the hour, the approval is completed from
-- this row (the same fingerprint and comment) and the row deleted; a row is only
-- ever written by that approver's own CSRF-checked approve form.
CREATE TABLE pending_approvals (
    user_id     bigint      NOT NULL REFERENCES users(id),
    case_id     bigint      NOT NULL REFERENCES cases(id),
    fingerprint text        NOT NULL,
    comment     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, case_id)
);

-- +goose Down
DROP TABLE pending_approvals;
ALTER TABLE approvals DROP COLUMN comment;
