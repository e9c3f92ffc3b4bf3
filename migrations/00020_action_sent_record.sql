-- The sent-record of sends that cannot be looked up afterwards (email through Gmail
-- with the gmail.send scope or SMTP, a Zendesk comment): the receipt is kept the
-- moment the provider accepts, before anything else can fail, so a rerun completes
-- from it instead of sending again or asking a person.

-- +goose Up
ALTER TABLE action_effects ADD COLUMN sent_receipt jsonb;

-- +goose Down
ALTER TABLE action_effects DROP COLUMN sent_receipt;
