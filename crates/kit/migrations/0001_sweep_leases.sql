-- Which process runs each of the service's sweeps, and until when: with several instances
-- of a service, one runs a sweep at a time, and another takes over once the holder stops
-- renewing its lease.
CREATE TABLE sweep_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
