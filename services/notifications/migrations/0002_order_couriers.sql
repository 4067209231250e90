-- The courier carrying a delivery order (from `delivery.assigned`): told when it is ready.
ALTER TABLE order_parties ADD COLUMN courier_id TEXT;
