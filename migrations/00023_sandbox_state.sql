-- The dev sandbox's account state (the Stripe fake's customers, charges, invoices,
-- disputes and refunds, and which charge paid which invoice), so that `make run`
-- after Ctrl-C finds the objects its demo cases refer to. Only `dev` writes it;
-- one row per sandboxed connector, replaced after every change.

-- +goose Up
CREATE TABLE sandbox_state (
    connector  text        PRIMARY KEY,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sandbox_state;
