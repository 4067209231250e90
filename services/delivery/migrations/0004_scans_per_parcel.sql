-- A carrier's event ids are unique to the carrier's own parcel, not across parcels (two
-- parcels may each have an `evt-2`): an event is applied once per (parcel, event id).
-- Neither dialect changes a primary key the same way, so the table is built again with
-- its rows.
CREATE TABLE shipment_events_kept AS
    SELECT id, shipment_id, type, location, received_at FROM shipment_events;
DROP TABLE shipment_events;
CREATE TABLE shipment_events (
    id TEXT NOT NULL,
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    type TEXT NOT NULL CHECK (type IN ('in_transit', 'delivered')),
    location TEXT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (shipment_id, id)
);
INSERT INTO shipment_events (id, shipment_id, type, location, received_at)
    SELECT id, shipment_id, type, location, received_at FROM shipment_events_kept;
DROP TABLE shipment_events_kept;
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, received_at);
