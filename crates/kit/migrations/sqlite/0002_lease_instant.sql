-- The lease's end, named for what it holds; SQLite keeps instants as INTEGER milliseconds.
ALTER TABLE sweep_leases RENAME COLUMN until_ms TO held_until;
