-- The operators' map reads the deliveries not yet ended, newest first.
CREATE INDEX deliveries_open ON deliveries (id) WHERE status IN ('searching', 'offered', 'assigned', 'picked_up');
