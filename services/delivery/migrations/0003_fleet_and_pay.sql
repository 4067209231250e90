-- The operators' map reads the deliveries not yet ended, newest first.
CREATE INDEX deliveries_open ON deliveries (id) WHERE status IN ('searching', 'offered', 'assigned', 'picked_up');

-- What the courier earns for the delivery, fixed when it is opened.
ALTER TABLE deliveries ADD COLUMN payout_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN payout_currency TEXT NOT NULL DEFAULT 'EUR';
