-- The trace (a W3C traceparent) of what settled a payment (captured, voided, refused) and
-- of what made each refund: an operator's request, a provider's webhook, a sweep.
ALTER TABLE payments ADD COLUMN settled_traceparent TEXT;
ALTER TABLE refunds ADD COLUMN traceparent TEXT;
