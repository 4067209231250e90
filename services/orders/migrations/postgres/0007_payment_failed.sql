-- A declined order waits in `payment_failed` for its customer to try another card.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_payment', 'payment_failed', 'paid', 'accepted', 'ready', 'picked_up', 'shipped', 'completed', 'cancelled', 'rejected'));
DROP INDEX orders_open;
CREATE INDEX orders_open ON orders (status, updated_at) WHERE status IN ('pending_payment', 'payment_failed', 'paid', 'accepted', 'ready', 'picked_up', 'shipped');
