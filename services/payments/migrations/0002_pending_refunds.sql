-- An operator's refund is reserved against the capture before the provider is asked, and
-- settled once the provider has made it: two refunds can never both pass what is left.
-- Refunds made before this column (and those the provider reports) are done.
ALTER TABLE refunds ADD COLUMN status TEXT NOT NULL DEFAULT 'succeeded' CHECK (status IN ('pending', 'succeeded'));
CREATE INDEX refunds_pending ON refunds (created_at) WHERE status = 'pending';
