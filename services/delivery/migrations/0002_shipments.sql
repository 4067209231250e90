-- Parcels of shipping orders: Pending Shipment (handed to the carrier) -> Shipped (the
-- carrier's first in_transit event) -> Delivered.
CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_shipment', 'shipped', 'delivered')),
    created_at BIGINT NOT NULL,
    shipped_at BIGINT,
    delivered_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- The carrier's events, each applied once: its id is the carrier's.
CREATE TABLE shipment_events (
    id TEXT PRIMARY KEY,
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    type TEXT NOT NULL CHECK (type IN ('in_transit', 'delivered')),
    location TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, received_at);
