CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'accepted', 'ready', 'picked_up', 'shipped', 'completed', 'cancelled', 'rejected')),
    fulfilment TEXT NOT NULL CHECK (fulfilment IN ('delivery', 'shipping', 'pickup')),
    -- The delivery address as given or looked up at checkout (JSON), none for pickup.
    address TEXT,
    payment_method_id TEXT,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL CHECK (subtotal >= 0),
    tip BIGINT NOT NULL CHECK (tip >= 0),
    total BIGINT NOT NULL CHECK (total = subtotal + tip),
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_merchant ON orders (merchant_id, status, id);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_no)
);

-- Every transition, with who and why.
CREATE TABLE order_history (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT,
    cause TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id, id);

-- POST /orders by Idempotency-Key: the first answer, kept for replays.
CREATE TABLE idempotency_keys (
    customer_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done')),
    response_status BIGINT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, key)
);
