-- Native types: ids as uuid, instants as timestamptz and JSON as jsonb, as ordo_db binds
-- them on PostgreSQL (it casts nothing implicitly). Converted in place. The counters'
-- merchant_id stays text: the platform's are kept under '', which is no uuid.
ALTER TABLE journal
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 millisecond',
    ALTER COLUMN data TYPE jsonb USING data::jsonb;

ALTER TABLE order_facts
    ALTER COLUMN order_id TYPE uuid USING order_id::uuid,
    ALTER COLUMN merchant_id TYPE uuid USING merchant_id::uuid,
    ALTER COLUMN placed_at TYPE timestamptz
        USING timestamptz 'epoch' + placed_at * interval '1 millisecond',
    ALTER COLUMN accepted_at TYPE timestamptz
        USING timestamptz 'epoch' + accepted_at * interval '1 millisecond',
    ALTER COLUMN ready_at TYPE timestamptz
        USING timestamptz 'epoch' + ready_at * interval '1 millisecond',
    ALTER COLUMN picked_up_at TYPE timestamptz
        USING timestamptz 'epoch' + picked_up_at * interval '1 millisecond';

ALTER TABLE hourly
    ALTER COLUMN hour TYPE timestamptz USING timestamptz 'epoch' + hour * interval '1 millisecond';

ALTER TABLE timings
    ALTER COLUMN hour TYPE timestamptz USING timestamptz 'epoch' + hour * interval '1 millisecond';

ALTER TABLE causes
    ALTER COLUMN hour TYPE timestamptz USING timestamptz 'epoch' + hour * interval '1 millisecond';
