-- Native types: the store binds and reads ids as uuid and instants as timestamptz, which
-- PostgreSQL does not cast to or from the text and epoch milliseconds the columns held.
ALTER TABLE cart_items
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN product_id TYPE uuid USING product_id::uuid,
    ALTER COLUMN added_at TYPE timestamptz USING timestamptz 'epoch' + added_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond',
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid;
ALTER TABLE carts
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';
