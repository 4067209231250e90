-- One delivery per order, from its merchant (pickup_*) to its customer (drop_off_*). The
-- customer's name and address are shown to a courier only once assigned.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('searching', 'offered', 'assigned', 'picked_up', 'delivered', 'cancelled')),
    courier_id TEXT,
    pickup_name TEXT NOT NULL,
    pickup_address TEXT NOT NULL,
    pickup_lat DOUBLE PRECISION NOT NULL,
    pickup_lon DOUBLE PRECISION NOT NULL,
    pickup_cell TEXT NOT NULL,
    drop_off_name TEXT NOT NULL,
    drop_off_address TEXT NOT NULL,
    drop_off_lat DOUBLE PRECISION NOT NULL,
    drop_off_lon DOUBLE PRECISION NOT NULL,
    searching_since BIGINT NOT NULL,
    escalated_at BIGINT,
    assigned_at BIGINT,
    picked_up_at BIGINT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- A courier carries one delivery at a time: the last word when two offers are taken at once.
CREATE UNIQUE INDEX deliveries_one_per_courier ON deliveries (courier_id) WHERE status IN ('assigned', 'picked_up');
CREATE INDEX deliveries_waiting ON deliveries (searching_since) WHERE status IN ('searching', 'offered');
CREATE INDEX deliveries_by_courier ON deliveries (courier_id, id);

-- A delivery put to one courier, once at most.
CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    courier_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    distance_km DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT,
    UNIQUE (delivery_id, courier_id)
);
CREATE INDEX offers_open ON offers (expires_at) WHERE status = 'open';
CREATE INDEX offers_by_courier ON offers (courier_id, status);

-- Couriers as last written: positions live in memory and are written every few seconds.
CREATE TABLE couriers (
    courier_id TEXT PRIMARY KEY,
    online BIGINT NOT NULL CHECK (online IN (0, 1)),
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    located_at BIGINT,
    idle_since BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
