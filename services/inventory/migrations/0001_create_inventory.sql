-- Stock per product and location ('default' until locations arrive). `reserved` is held for
-- orders not yet paid; what can still be sold is on_hand - reserved, never negative.
CREATE TABLE stock (
    product_id TEXT NOT NULL,
    location TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    updated_at BIGINT NOT NULL,
    CHECK (on_hand - reserved >= 0),
    PRIMARY KEY (product_id, location)
);

-- One reservation per order: the key that makes every operation idempotent.
CREATE TABLE reservations (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('held', 'committed', 'released', 'expired', 'returned')),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reservations_held ON reservations (expires_at) WHERE status = 'held';

CREATE TABLE reservation_lines (
    order_id TEXT NOT NULL REFERENCES reservations (order_id),
    product_id TEXT NOT NULL,
    location TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id, location)
);
