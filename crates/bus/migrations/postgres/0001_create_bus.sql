-- The transactional outbox: a service's events, written in the same transaction as the
-- change they describe, relayed in `seq` order. Ids are UUIDv7 made by the outbox; no
-- unique index on them, since every index costs each append.
CREATE TABLE bus_outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    time BIGINT NOT NULL,
    dataversion BIGINT NOT NULL,
    data TEXT NOT NULL,
    traceparent TEXT,
    correlationid TEXT,
    published_at BIGINT
);
CREATE INDEX bus_outbox_unpublished ON bus_outbox (seq) WHERE published_at IS NULL;
CREATE INDEX bus_outbox_published ON bus_outbox (published_at) WHERE published_at IS NOT NULL;

-- What each consumer has handled: written in the handler's transaction, so a redelivered
-- event is recognised and acknowledged without a second effect.
CREATE TABLE bus_inbox (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    handled_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX bus_inbox_handled ON bus_inbox (handled_at);

-- Events a consumer rejected or gave up on; `replay` asks the consumer to try once more.
CREATE TABLE bus_dead_letters (
    id TEXT PRIMARY KEY,
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    envelope TEXT NOT NULL,
    attempts BIGINT NOT NULL CHECK (attempts >= 1),
    last_error TEXT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    dead_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('dead', 'replay')),
    UNIQUE (consumer, event_id)
);
CREATE INDEX bus_dead_letters_status ON bus_dead_letters (consumer, status);

-- Leases: which instance runs a singleton task (the relay of this outbox) right now.
CREATE TABLE bus_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
