-- The courier who took a delivery order (from delivery's `delivery.assigned`): the order is
-- visible to them.
ALTER TABLE orders ADD COLUMN courier_id TEXT;
