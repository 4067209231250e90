-- What the consumers ask of the provider: recorded in their transaction, made after it has
-- committed, so that no transaction stays open while the provider answers. One per order
-- and action: a redelivered event finds its request there. A request is deleted in the
-- transaction that records the provider's answer.
CREATE TABLE provider_requests (
    order_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('authorize', 'capture', 'void')),
    -- An authorisation's card and amount, as the placed order said.
    customer_id TEXT,
    payment_method_id TEXT,
    amount BIGINT,
    currency TEXT,
    -- The trace of the event that asked, carried on by the events the answer publishes.
    traceparent TEXT,
    correlationid TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, action)
);
CREATE INDEX provider_requests_due ON provider_requests (not_before);
