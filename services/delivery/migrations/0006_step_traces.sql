-- The trace (a W3C traceparent) of the request or event behind each step, so that the
-- order's timeline links every step to what caused it.
ALTER TABLE deliveries ADD COLUMN opened_traceparent TEXT;
ALTER TABLE deliveries ADD COLUMN assigned_traceparent TEXT;
ALTER TABLE deliveries ADD COLUMN picked_up_traceparent TEXT;
ALTER TABLE deliveries ADD COLUMN delivered_traceparent TEXT;
ALTER TABLE deliveries ADD COLUMN escalated_traceparent TEXT;
ALTER TABLE deliveries ADD COLUMN redispatched_traceparent TEXT;
ALTER TABLE offers ADD COLUMN made_traceparent TEXT;
ALTER TABLE offers ADD COLUMN answered_traceparent TEXT;
ALTER TABLE couriers ADD COLUMN located_traceparent TEXT;
