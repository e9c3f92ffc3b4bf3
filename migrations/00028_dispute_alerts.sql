-- A chargeback reaches finance when Stripe reports it, even when no call is about
-- the charge yet: such an alert has no case (case_id NULL) and its call_ref is the
-- Stripe dispute id, so it is still raised once. When a call about the charge
-- arrives and the dispute is linked to a case, the alert is linked too (and the
-- case raises no second chargeback alert); its thread then follows the case.

-- +goose Up
ALTER TABLE case_alerts ALTER COLUMN case_id DROP NOT NULL;
ALTER TABLE case_alerts ADD CONSTRAINT case_alerts_subject CHECK (case_id IS NOT NULL OR reason = 'chargeback');

-- +goose Down
DELETE FROM case_alerts WHERE case_id IS NULL;
ALTER TABLE case_alerts DROP CONSTRAINT case_alerts_subject;
ALTER TABLE case_alerts ALTER COLUMN case_id SET NOT NULL;
