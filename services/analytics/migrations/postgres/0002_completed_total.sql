-- The totals of the orders completed in the hour: the average basket counts only orders
-- that were completed, not every order placed.
ALTER TABLE hourly ADD COLUMN completed_total BIGINT NOT NULL DEFAULT 0;
