-- A declined order may be paid with another card: each authorisation is an attempt of the
-- order's one payment (1 at checkout), asked of the provider with its own idempotency key,
-- and recorded over the declined one only when it is newer.
ALTER TABLE payments ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1 CHECK (attempt >= 1);
ALTER TABLE provider_requests ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1 CHECK (attempt >= 1);
