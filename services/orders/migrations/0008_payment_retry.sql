-- A declined order: why, in words for its customer (cleared when another card is tried),
-- until when it may be paid with another card, and how many authorisations it has asked
-- for (each has its own idempotency key at the provider). Whether it was ordered from the
-- cart, which is emptied once it is paid.
ALTER TABLE orders ADD COLUMN payment_failure TEXT;
ALTER TABLE orders ADD COLUMN payment_retry_until BIGINT;
ALTER TABLE orders ADD COLUMN payment_attempts BIGINT NOT NULL DEFAULT 1 CHECK (payment_attempts >= 1);
ALTER TABLE orders ADD COLUMN from_cart BIGINT NOT NULL DEFAULT 0 CHECK (from_cart IN (0, 1));
-- Declined orders by the end of their window: the sweep that cancels them reads this.
CREATE INDEX orders_payment_retry ON orders (payment_retry_until) WHERE status = 'payment_failed';
