-- Native types: ids as uuid, instants as timestamptz, JSON as jsonb and flags as boolean,
-- as ordo_db binds them on PostgreSQL (it casts nothing implicitly). Converted in place.
-- The foreign keys join columns whose type changes: dropped first, added again after.
ALTER TABLE merchants DROP CONSTRAINT merchants_image_id_fkey;
ALTER TABLE merchant_staff DROP CONSTRAINT merchant_staff_merchant_id_fkey;
ALTER TABLE products DROP CONSTRAINT products_merchant_id_fkey;
ALTER TABLE products DROP CONSTRAINT products_image_id_fkey;
ALTER TABLE products DROP CONSTRAINT products_active_check;

ALTER TABLE images
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN owner_id TYPE uuid USING owner_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz
        USING timestamptz 'epoch' + created_at * interval '1 millisecond';

ALTER TABLE merchants
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN opening_hours TYPE jsonb USING opening_hours::jsonb,
    ALTER COLUMN created_at TYPE timestamptz
        USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz
        USING timestamptz 'epoch' + updated_at * interval '1 millisecond',
    ALTER COLUMN image_id TYPE uuid USING image_id::uuid;

ALTER TABLE merchant_staff
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN added_at TYPE timestamptz
        USING timestamptz 'epoch' + added_at * interval '1 millisecond';

ALTER TABLE products
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN tags TYPE jsonb USING tags::jsonb,
    ALTER COLUMN active TYPE boolean USING active <> 0,
    ALTER COLUMN created_at TYPE timestamptz
        USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz
        USING timestamptz 'epoch' + updated_at * interval '1 millisecond',
    ALTER COLUMN deleted_at TYPE timestamptz
        USING timestamptz 'epoch' + deleted_at * interval '1 millisecond',
    ALTER COLUMN image_id TYPE uuid USING image_id::uuid;

ALTER TABLE merchants
    ADD CONSTRAINT merchants_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id);
ALTER TABLE merchant_staff
    ADD CONSTRAINT merchant_staff_merchant_id_fkey
        FOREIGN KEY (merchant_id) REFERENCES merchants (id);
ALTER TABLE products
    ADD CONSTRAINT products_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES merchants (id);
ALTER TABLE products
    ADD CONSTRAINT products_image_id_fkey FOREIGN KEY (image_id) REFERENCES images (id);
