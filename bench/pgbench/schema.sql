-- The tables one checkout writes on PostgreSQL, as Ordo's migrations make them (the orders
-- and inventory services' and the bus's outbox), in one schema: `ordo bench checkout
-- --backend postgres` runs checkout.sql against them with pgbench, beside the platform.
CREATE TABLE idempotency_keys (
    customer_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done')),
    response_status BIGINT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    order_id TEXT,
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX idempotency_keys_running ON idempotency_keys (created_at) WHERE status = 'running';

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
INSERT INTO stock VALUES ('soup', 'default', 'bistro', 1000000000, 0, 0);

CREATE TABLE reservations (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
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

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    fulfilment TEXT NOT NULL,
    address TEXT,
    payment_method_id TEXT,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tip BIGINT NOT NULL,
    total BIGINT NOT NULL CHECK (total = subtotal + tip),
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    courier_id TEXT,
    shipment_id TEXT,
    carrier TEXT,
    tracking_number TEXT
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_merchant ON orders (merchant_id, status, id);
CREATE INDEX orders_awaiting_merchant ON orders (updated_at) WHERE status = 'paid';
CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_price BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
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

CREATE TABLE bus_outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    time BIGINT NOT NULL,
    dataversion BIGINT NOT NULL,
    data TEXT NOT NULL,
    traceparent TEXT,
    correlationid TEXT,
    published_at BIGINT
);
CREATE INDEX bus_outbox_unpublished ON bus_outbox (seq) WHERE published_at IS NULL;
CREATE INDEX bus_outbox_published ON bus_outbox (published_at) WHERE published_at IS NOT NULL;
