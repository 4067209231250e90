CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('restaurant', 'shop')),
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon DOUBLE PRECISION NOT NULL CHECK (lon BETWEEN -180 AND 180),
    -- The weekly opening hours as JSON: [{"day": "mon", "open": "09:00", "close": "22:00"}].
    opening_hours TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX merchants_location ON merchants (lat, lon);

-- Who acts for a merchant. The creator is its first member.
CREATE TABLE merchant_staff (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    user_id TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, user_id)
);
CREATE INDEX merchant_staff_user ON merchant_staff (user_id);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    price_amount BIGINT NOT NULL CHECK (price_amount >= 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    sku TEXT,
    -- JSON array of strings.
    tags TEXT NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX products_merchant ON products (merchant_id, id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX products_sku ON products (merchant_id, sku) WHERE sku IS NOT NULL AND deleted_at IS NULL;
