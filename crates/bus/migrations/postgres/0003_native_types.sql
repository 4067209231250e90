-- PostgreSQL's own types for ids, instants and JSON documents, converted in place. The
-- outbox's `data` stays text: it is relayed to the broker exactly as it was written, and
-- jsonb would parse it on the hottest insert and hand back other bytes.
ALTER TABLE bus_outbox
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN time TYPE timestamptz USING timestamptz 'epoch' + time * interval '1 millisecond',
    ALTER COLUMN published_at TYPE timestamptz USING timestamptz 'epoch' + published_at * interval '1 millisecond',
    ALTER COLUMN subject_since TYPE timestamptz USING timestamptz 'epoch' + subject_since * interval '1 millisecond';

ALTER TABLE bus_inbox
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN handled_at TYPE timestamptz USING timestamptz 'epoch' + handled_at * interval '1 millisecond';

ALTER TABLE bus_dead_letters
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb,
    ALTER COLUMN first_failed_at TYPE timestamptz USING timestamptz 'epoch' + first_failed_at * interval '1 millisecond',
    ALTER COLUMN dead_at TYPE timestamptz USING timestamptz 'epoch' + dead_at * interval '1 millisecond';

ALTER TABLE bus_leases
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 millisecond';

ALTER TABLE bus_subjects
    ALTER COLUMN since TYPE timestamptz USING timestamptz 'epoch' + since * interval '1 millisecond';

ALTER TABLE bus_consumers
    ALTER COLUMN since TYPE timestamptz USING timestamptz 'epoch' + since * interval '1 millisecond';
