-- Native types: ids are uuid, instants timestamptz and JSON documents jsonb, as the store
-- binds and reads them; each table is rewritten once, its rows converted in place.
ALTER TABLE purchases
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN product_ids TYPE jsonb USING product_ids::jsonb,
    ALTER COLUMN completed_at TYPE timestamptz USING timestamptz 'epoch' + completed_at * interval '1 millisecond';

ALTER TABLE reviews
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN answered_at TYPE timestamptz USING timestamptz 'epoch' + answered_at * interval '1 millisecond',
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN decided_at TYPE timestamptz USING timestamptz 'epoch' + decided_at * interval '1 millisecond';

ALTER TABLE review_products
    ALTER COLUMN product_id TYPE uuid USING product_id::uuid,
    ALTER COLUMN review_id TYPE uuid USING review_id::uuid;

ALTER TABLE ratings
    ALTER COLUMN subject_id TYPE uuid USING subject_id::uuid;
