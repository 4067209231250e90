-- Operators find any order: by status, by when it was placed, by its reference (the last
-- eight hex digits of its id, as every app and message shows it); by customer and by
-- merchant the existing indexes serve.
CREATE INDEX orders_by_status ON orders (status, id);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_reference ON orders (substr(id, 29));
-- The trace each transition happened in, for the order's timeline.
ALTER TABLE order_history ADD COLUMN trace_id TEXT;
