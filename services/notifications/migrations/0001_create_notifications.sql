-- Each user's inbox.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    order_id TEXT,
    -- The event that caused it: one notification per user per event, however often the
    -- event is delivered.
    event_id TEXT NOT NULL,
    read_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- Who an order concerns, learnt from order.placed, for the events that only name the order.
CREATE TABLE order_parties (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    -- JSON array of the merchant's staff at the time of the order.
    staff TEXT NOT NULL
);

-- Every attempt to send a notification by email, successful or not.
CREATE TABLE email_attempts (
    id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    error TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX email_attempts_notification ON email_attempts (notification_id);
