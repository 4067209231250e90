-- Paid orders waiting for their merchant, the longest waiting first: the accept timeout's
-- sweep reads this.
CREATE INDEX orders_awaiting_merchant ON orders (updated_at) WHERE status = 'paid';
