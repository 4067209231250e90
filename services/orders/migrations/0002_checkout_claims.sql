-- The order id a running checkout reserves stock for: a retry that takes over a claim whose
-- request died announces that id abandoned, so its stock goes back. NULL for keys claimed
-- before this column existed (all of them done).
ALTER TABLE idempotency_keys ADD COLUMN order_id TEXT;
-- Running claims by age, for the sweep that abandons those whose request died.
CREATE INDEX idempotency_keys_running ON idempotency_keys (created_at) WHERE status = 'running';
