-- Native types: the store binds and reads ids as uuid and instants as timestamptz, which
-- PostgreSQL does not cast to or from the text and epoch milliseconds the columns held.
ALTER TABLE reservation_lines DROP CONSTRAINT reservation_lines_order_id_fkey;
ALTER TABLE stock
    ALTER COLUMN product_id TYPE uuid USING product_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';
ALTER TABLE reservations
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 millisecond',
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';
ALTER TABLE reservation_lines
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN product_id TYPE uuid USING product_id::uuid,
    ADD CONSTRAINT reservation_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES reservations (order_id);
