-- The trace (a W3C traceparent) of the checkout that held a reservation and of the event
-- or sweep that last moved it, so that the order's timeline links each step to its cause.
ALTER TABLE reservations ADD COLUMN held_traceparent TEXT;
ALTER TABLE reservations ADD COLUMN moved_traceparent TEXT;
