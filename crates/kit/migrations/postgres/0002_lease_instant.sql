-- The lease's end is an instant: PostgreSQL's own type, converted in place; named for
-- what it holds rather than its old unit.
ALTER TABLE sweep_leases RENAME COLUMN until_ms TO held_until;
ALTER TABLE sweep_leases
    ALTER COLUMN held_until TYPE timestamptz USING timestamptz 'epoch' + held_until * interval '1 millisecond';
