-- Every event the reports were made from, as it came: the tables below can be rebuilt
-- from it.
CREATE TABLE journal (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    at BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX journal_in_order ON journal (at, event_id);

-- One row per order: what the reports need to attribute later events and timings.
CREATE TABLE order_facts (
    order_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    placed_at BIGINT NOT NULL,
    accepted_at BIGINT,
    ready_at BIGINT,
    picked_up_at BIGINT
);

-- Counters per merchant, hour and currency; merchant_id '' holds the whole platform's.
-- Kept in key order (WITHOUT ROWID), so that a report's hours are read from neighbouring
-- pages rather than looked up one by one across the table: the reports' counter tables are
-- the only difference from the PostgreSQL file.
CREATE TABLE hourly (
    merchant_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    currency TEXT NOT NULL,
    carts BIGINT NOT NULL DEFAULT 0,
    orders BIGINT NOT NULL DEFAULT 0,
    from_cart BIGINT NOT NULL DEFAULT 0,
    basket_total BIGINT NOT NULL DEFAULT 0,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    completed BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, hour, currency)
) WITHOUT ROWID;

-- How long steps took, as counts per bin of a log scale (see domain::bin_of), per
-- merchant (or '' for the platform), hour and kind: percentiles without keeping every
-- duration.
CREATE TABLE timings (
    merchant_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('acceptance', 'preparation', 'delivery')),
    bin BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, hour, kind, bin)
) WITHOUT ROWID;

-- Why orders ended without reaching their customer, per merchant (or ''), hour and outcome.
CREATE TABLE causes (
    merchant_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('cancelled', 'rejected')),
    cause TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, hour, outcome, cause)
) WITHOUT ROWID;
