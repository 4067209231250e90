-- Each event's place among its source's events about its subject (1, 2, 3…), given when
-- the outbox row is written. Consumers handle a subject's events in that order. Rows
-- written before this migration have none and are handled as they come.
ALTER TABLE bus_outbox ADD COLUMN subject_seq BIGINT;
-- When the subject's first event was written: a consumer that started later takes the
-- first event it sees of such a subject as its start.
ALTER TABLE bus_outbox ADD COLUMN subject_since BIGINT;

-- The last place given per source and subject, raised in the appending transaction: on
-- PostgreSQL its row lock makes a subject's places follow the order in which its
-- transactions commit. Kept for good: a subject that started again at 1 would look like
-- its own past.
CREATE TABLE bus_subjects (
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    seq BIGINT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (source, subject)
);

-- How far each consumer has come in each source's subjects: every event up to `seq` was
-- handled, passed over (not a type it handles) or dead-lettered. A later event waits
-- until the ones before it have come.
-- Keyed subject before source: a batch looks its subjects up by consumer and subject.
CREATE TABLE bus_positions (
    consumer TEXT NOT NULL,
    subject TEXT NOT NULL,
    source TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (consumer, subject, source)
);

-- When each consumer first ran: subjects begun before it are followed from the first event
-- it sees, those begun after from their first.
CREATE TABLE bus_consumers (
    consumer TEXT PRIMARY KEY,
    since BIGINT NOT NULL
);
