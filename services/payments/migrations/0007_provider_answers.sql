-- Each request to the provider once answered, kept for the order's timeline: when it was
-- asked and in which trace (the request itself goes with its answer).
CREATE TABLE provider_answers (
    order_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('authorize', 'capture', 'void')),
    attempt BIGINT NOT NULL,
    traceparent TEXT,
    asked_at BIGINT NOT NULL,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, action, attempt)
);
