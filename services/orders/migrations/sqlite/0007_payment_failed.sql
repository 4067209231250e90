-- A declined order waits in `payment_failed` for its customer to try another card. SQLite
-- cannot change a CHECK constraint, so the table is made again with it, and its indexes
-- with it; the lines and history keep referring to `orders` (checked at the commit).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE orders_with_payment_failed (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'payment_failed', 'paid', 'accepted', 'ready', 'picked_up', 'shipped', 'completed', 'cancelled', 'rejected')),
    fulfilment TEXT NOT NULL CHECK (fulfilment IN ('delivery', 'shipping', 'pickup')),
    address TEXT,
    payment_method_id TEXT,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL CHECK (subtotal >= 0),
    tip BIGINT NOT NULL CHECK (tip >= 0),
    total BIGINT NOT NULL CHECK (total = subtotal + tip),
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    courier_id TEXT,
    shipment_id TEXT,
    carrier TEXT,
    tracking_number TEXT
);
INSERT INTO orders_with_payment_failed (id, customer_id, merchant_id, status, fulfilment, address, payment_method_id, currency, subtotal, tip, total, notes, created_at, updated_at, courier_id, shipment_id, carrier, tracking_number)
    SELECT id, customer_id, merchant_id, status, fulfilment, address, payment_method_id, currency, subtotal, tip, total, notes, created_at, updated_at, courier_id, shipment_id, carrier, tracking_number FROM orders;
DROP TABLE orders;
ALTER TABLE orders_with_payment_failed RENAME TO orders;
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_merchant ON orders (merchant_id, status, id);
CREATE INDEX orders_awaiting_merchant ON orders (updated_at) WHERE status = 'paid';
CREATE INDEX orders_open ON orders (status, updated_at) WHERE status IN ('pending_payment', 'payment_failed', 'paid', 'accepted', 'ready', 'picked_up', 'shipped');
