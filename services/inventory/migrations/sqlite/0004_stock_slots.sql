-- A product's stock may be spread over several rows (slots) so that concurrent orders do
-- not queue on one. SQLite cannot change a primary key in place: the table is rebuilt, each
-- product's stock becoming its slot 0.
CREATE TABLE stock_slots (
    product_id TEXT NOT NULL,
    location TEXT NOT NULL,
    slot INTEGER NOT NULL DEFAULT 0 CHECK (slot >= 0),
    merchant_id TEXT NOT NULL,
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    updated_at BIGINT NOT NULL,
    CHECK (on_hand - reserved >= 0),
    PRIMARY KEY (product_id, location, slot)
);
INSERT INTO stock_slots (product_id, location, slot, merchant_id, on_hand, reserved, updated_at)
    SELECT product_id, location, 0, merchant_id, on_hand, reserved, updated_at FROM stock;
DROP TABLE stock;
ALTER TABLE stock_slots RENAME TO stock;
-- The slot each line holds its units in.
ALTER TABLE reservation_lines ADD COLUMN slot INTEGER NOT NULL DEFAULT 0 CHECK (slot >= 0);
