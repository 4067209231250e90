-- Native types: ids are uuid, instants timestamptz and flags boolean, as the stores bind
-- and read them; each table is rewritten once, its rows converted in place. A carrier's
-- event id is the carrier's own text and stays so. The foreign keys are dropped while both
-- ends change type, then made again as they were; the 0/1 check of `online` goes, a
-- boolean is nothing else.
ALTER TABLE offers DROP CONSTRAINT offers_delivery_id_fkey;
ALTER TABLE shipment_events DROP CONSTRAINT shipment_events_shipment_id_fkey;
ALTER TABLE couriers DROP CONSTRAINT couriers_online_check;

ALTER TABLE deliveries
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN courier_id TYPE uuid USING courier_id::uuid,
    ALTER COLUMN searching_since TYPE timestamptz USING timestamptz 'epoch' + searching_since * interval '1 millisecond',
    ALTER COLUMN escalated_at TYPE timestamptz USING timestamptz 'epoch' + escalated_at * interval '1 millisecond',
    ALTER COLUMN assigned_at TYPE timestamptz USING timestamptz 'epoch' + assigned_at * interval '1 millisecond',
    ALTER COLUMN picked_up_at TYPE timestamptz USING timestamptz 'epoch' + picked_up_at * interval '1 millisecond',
    ALTER COLUMN delivered_at TYPE timestamptz USING timestamptz 'epoch' + delivered_at * interval '1 millisecond',
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond',
    ALTER COLUMN redispatched_at TYPE timestamptz USING timestamptz 'epoch' + redispatched_at * interval '1 millisecond';

ALTER TABLE offers
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN delivery_id TYPE uuid USING delivery_id::uuid,
    ALTER COLUMN courier_id TYPE uuid USING courier_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 millisecond',
    ALTER COLUMN answered_at TYPE timestamptz USING timestamptz 'epoch' + answered_at * interval '1 millisecond';

ALTER TABLE couriers
    ALTER COLUMN courier_id TYPE uuid USING courier_id::uuid,
    ALTER COLUMN online TYPE boolean USING online <> 0,
    ALTER COLUMN located_at TYPE timestamptz USING timestamptz 'epoch' + located_at * interval '1 millisecond',
    ALTER COLUMN idle_since TYPE timestamptz USING timestamptz 'epoch' + idle_since * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';

ALTER TABLE shipments
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN shipped_at TYPE timestamptz USING timestamptz 'epoch' + shipped_at * interval '1 millisecond',
    ALTER COLUMN delivered_at TYPE timestamptz USING timestamptz 'epoch' + delivered_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';

ALTER TABLE shipment_events
    ALTER COLUMN shipment_id TYPE uuid USING shipment_id::uuid,
    ALTER COLUMN received_at TYPE timestamptz USING timestamptz 'epoch' + received_at * interval '1 millisecond';

ALTER TABLE offers ADD CONSTRAINT offers_delivery_id_fkey
    FOREIGN KEY (delivery_id) REFERENCES deliveries (id);
ALTER TABLE shipment_events ADD CONSTRAINT shipment_events_shipment_id_fkey
    FOREIGN KEY (shipment_id) REFERENCES shipments (id);
