-- What search knows of the catalogue, its stock and its ratings, as their events told it.
-- The index is built from these tables, so it can be rebuilt at any time.
CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    -- JSON: [{"day": "mon", "open": "09:00", "close": "22:00"}].
    opening_hours TEXT NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    price_amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    -- JSON array of strings.
    tags TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1))
);
CREATE INDEX products_merchant ON products (merchant_id, id);

-- Kept apart from products: stock may be told before the product is.
CREATE TABLE stock (
    product_id TEXT PRIMARY KEY,
    available BIGINT NOT NULL
);

CREATE TABLE ratings (
    merchant_id TEXT PRIMARY KEY,
    average DOUBLE PRECISION NOT NULL,
    count BIGINT NOT NULL
);

-- What changed and is not yet in the index: a merchant (and so all its products) or a
-- product. `token` is new at each change, so a change made while the index took the
-- previous one is not marked done with it.
CREATE TABLE pending (
    id TEXT PRIMARY KEY,
    what TEXT NOT NULL CHECK (what IN ('merchant', 'product')),
    token TEXT NOT NULL
);
