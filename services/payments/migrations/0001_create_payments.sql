-- Cards as the provider's tokens: never the number, never the CVC.
CREATE TABLE payment_methods (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    token TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL CHECK (length(last4) = 4),
    exp_month BIGINT NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX payment_methods_user ON payment_methods (user_id, id) WHERE deleted_at IS NULL;

-- One payment per order: the key that makes authorising idempotent.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    payment_method_id TEXT,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    status TEXT NOT NULL CHECK (status IN ('authorized', 'failed', 'voided', 'captured', 'capture_failed')),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL,
    captured_amount BIGINT NOT NULL DEFAULT 0 CHECK (captured_amount >= 0),
    -- Refunds never exceed the capture.
    refunded_amount BIGINT NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount),
    failure_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Provider webhooks already handled: a repeat is acknowledged without a second effect.
CREATE TABLE provider_events (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    type TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
