-- The trace of the event each message answers, for the order's timeline.
ALTER TABLE notifications ADD COLUMN trace_id TEXT;
