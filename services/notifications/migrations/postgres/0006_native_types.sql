-- Native types: ids are uuid, instants timestamptz, JSON documents jsonb and flags boolean,
-- as the stores bind and read them; each table is rewritten once, its rows converted in
-- place. The flags' 0/1 checks go: a boolean is nothing else.
ALTER TABLE notifications
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN read_at TYPE timestamptz USING timestamptz 'epoch' + read_at * interval '1 millisecond',
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond';

ALTER TABLE order_parties
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN staff TYPE jsonb USING staff::jsonb,
    ALTER COLUMN courier_id TYPE uuid USING courier_id::uuid;

ALTER TABLE email_attempts
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN notification_id TYPE uuid USING notification_id::uuid,
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 millisecond';

ALTER TABLE notification_preferences
    DROP CONSTRAINT notification_preferences_email_check,
    DROP CONSTRAINT notification_preferences_sms_check;
ALTER TABLE notification_preferences
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN email TYPE boolean USING email <> 0,
    ALTER COLUMN sms TYPE boolean USING sms <> 0,
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';

ALTER TABLE sms_messages
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN notification_id TYPE uuid USING notification_id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 millisecond';
