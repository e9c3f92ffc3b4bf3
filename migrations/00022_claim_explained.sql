-- +goose Up
-- A claim check explains its confidence line by line and says why it routed the
-- case to review (internal/enrich).
ALTER TABLE claim_checks
    ADD COLUMN score jsonb NOT NULL DEFAULT '[]',  -- [{points, why}], summing to confidence
    ADD COLUMN route jsonb NOT NULL DEFAULT '[]';  -- ["amount 500.00 USD claimed, the ledger has 50.00 USD ..."]

-- +goose Down
ALTER TABLE claim_checks DROP COLUMN score, DROP COLUMN route;
