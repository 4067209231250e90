-- Native types: the store binds and reads ids as uuid and instants as timestamptz, which
-- PostgreSQL does not cast to or from the text and epoch milliseconds the columns held.
-- A provider's event id is the provider's own text, and stays so.
ALTER TABLE refunds DROP CONSTRAINT refunds_payment_id_fkey;
ALTER TABLE payment_methods
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN deleted_at TYPE timestamptz USING timestamptz 'epoch' + deleted_at * interval '1 millisecond';
ALTER TABLE payments
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN payment_method_id TYPE uuid USING payment_method_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond',
    ALTER COLUMN answered_at TYPE timestamptz USING timestamptz 'epoch' + answered_at * interval '1 millisecond',
    ALTER COLUMN settled_at TYPE timestamptz USING timestamptz 'epoch' + settled_at * interval '1 millisecond';
ALTER TABLE refunds
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN payment_id TYPE uuid USING payment_id::uuid,
    ALTER COLUMN created_by TYPE uuid USING created_by::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ADD CONSTRAINT refunds_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payments (id);
ALTER TABLE provider_events
    ALTER COLUMN received_at TYPE timestamptz USING timestamptz 'epoch' + received_at * interval '1 millisecond';
ALTER TABLE provider_requests
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN payment_method_id TYPE uuid USING payment_method_id::uuid,
    ALTER COLUMN not_before TYPE timestamptz USING timestamptz 'epoch' + not_before * interval '1 millisecond',
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond';
ALTER TABLE order_ends
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN ended_at TYPE timestamptz USING timestamptz 'epoch' + ended_at * interval '1 millisecond';
ALTER TABLE provider_answers
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN asked_at TYPE timestamptz USING timestamptz 'epoch' + asked_at * interval '1 millisecond',
    ALTER COLUMN answered_at TYPE timestamptz USING timestamptz 'epoch' + answered_at * interval '1 millisecond';
