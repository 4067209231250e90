-- When the latest authorisation was answered and when the payment was captured, voided or
-- its capture refused: the operators' timeline of an order tells them apart.
ALTER TABLE payments ADD COLUMN answered_at BIGINT;
ALTER TABLE payments ADD COLUMN settled_at BIGINT;
UPDATE payments SET answered_at = created_at;
UPDATE payments SET settled_at = updated_at WHERE status IN ('captured', 'voided', 'capture_failed');
