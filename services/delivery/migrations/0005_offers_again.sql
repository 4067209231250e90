-- A courier may be asked again for a delivery they let pass (after
-- `delivery.reoffer_after_secs`), but never holds two open offers for it at once. Neither
-- dialect drops a table constraint the same way, so the table is built again with its rows.
CREATE TABLE offers_kept AS
    SELECT id, delivery_id, courier_id, status, distance_km, created_at, expires_at, answered_at
    FROM offers;
DROP TABLE offers;
CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    courier_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    distance_km DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT
);
INSERT INTO offers (id, delivery_id, courier_id, status, distance_km, created_at, expires_at, answered_at)
    SELECT id, delivery_id, courier_id, status, distance_km, created_at, expires_at, answered_at
    FROM offers_kept;
DROP TABLE offers_kept;
CREATE UNIQUE INDEX offers_one_open ON offers (delivery_id, courier_id) WHERE status = 'open';
CREATE INDEX offers_by_delivery ON offers (delivery_id, courier_id);
CREATE INDEX offers_open ON offers (expires_at) WHERE status = 'open';
CREATE INDEX offers_by_courier ON offers (courier_id, status);

-- An operator's "offer again (wider)": the area it is offered in, once widened (unset: the
-- configured `max_radius_km`), and since when earlier answers no longer count.
ALTER TABLE deliveries ADD COLUMN search_radius_km DOUBLE PRECISION;
ALTER TABLE deliveries ADD COLUMN redispatched_at BIGINT;
