-- Native types: ids as uuid, JSON as jsonb and flags as boolean, as ordo_db binds them on
-- PostgreSQL (it casts nothing implicitly). Converted in place.
ALTER TABLE merchants
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN opening_hours TYPE jsonb USING opening_hours::jsonb;

ALTER TABLE products DROP CONSTRAINT products_active_check;
ALTER TABLE products
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN tags TYPE jsonb USING tags::jsonb,
    ALTER COLUMN active TYPE boolean USING active <> 0;

ALTER TABLE stock ALTER COLUMN product_id TYPE uuid USING product_id::uuid;

ALTER TABLE ratings ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid;

ALTER TABLE pending
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN token TYPE uuid USING token::uuid;
