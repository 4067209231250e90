-- Operators count the orders not yet at an end by status, with the longest wait in each.
CREATE INDEX orders_open ON orders (status, updated_at) WHERE status IN ('pending_payment', 'paid', 'accepted', 'ready', 'picked_up', 'shipped');
