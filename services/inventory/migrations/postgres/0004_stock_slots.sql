-- A product's stock may be spread over several rows (slots) so that concurrent orders do
-- not queue on one; each product's stock becomes its slot 0.
ALTER TABLE stock
    ADD COLUMN slot INTEGER NOT NULL DEFAULT 0 CHECK (slot >= 0),
    DROP CONSTRAINT stock_pkey,
    ADD PRIMARY KEY (product_id, location, slot);
-- The slot each line holds its units in.
ALTER TABLE reservation_lines ADD COLUMN slot INTEGER NOT NULL DEFAULT 0 CHECK (slot >= 0);
