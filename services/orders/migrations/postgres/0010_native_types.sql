-- Native types: the store binds and reads ids as uuid, instants as timestamptz, the address
-- as jsonb and whether an order came from the cart as boolean, which PostgreSQL does not
-- cast to or from the text, epoch milliseconds and 0/1 the columns held.
ALTER TABLE order_lines DROP CONSTRAINT order_lines_order_id_fkey;
ALTER TABLE order_history DROP CONSTRAINT order_history_order_id_fkey;
-- Of the id's text, which a uuid has to be cast to.
DROP INDEX orders_reference;
ALTER TABLE orders DROP CONSTRAINT orders_from_cart_check, ALTER COLUMN from_cart DROP DEFAULT;
ALTER TABLE orders
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN address TYPE jsonb USING address::jsonb,
    ALTER COLUMN payment_method_id TYPE uuid USING payment_method_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond',
    ALTER COLUMN courier_id TYPE uuid USING courier_id::uuid,
    ALTER COLUMN shipment_id TYPE uuid USING shipment_id::uuid,
    ALTER COLUMN payment_retry_until TYPE timestamptz USING timestamptz 'epoch' + payment_retry_until * interval '1 millisecond',
    ALTER COLUMN from_cart TYPE boolean USING from_cart <> 0;
ALTER TABLE orders ALTER COLUMN from_cart SET DEFAULT FALSE;
CREATE INDEX orders_reference ON orders (substr(CAST(id AS TEXT), 29));
ALTER TABLE order_lines
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN product_id TYPE uuid USING product_id::uuid,
    ADD CONSTRAINT order_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE order_history
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN actor_id TYPE uuid USING actor_id::uuid,
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 millisecond',
    ADD CONSTRAINT order_history_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE idempotency_keys
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid;
