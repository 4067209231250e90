-- Orders as the bus tells of them: who bought what from whom, and whether it reached them.
-- A review needs a completed purchase here, so every review is a verified purchase.
CREATE TABLE purchases (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    product_ids TEXT NOT NULL,
    completed_at BIGINT
);

-- One review per order; public once approved.
CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    rating BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    answer TEXT,
    answered_at BIGINT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX reviews_by_status ON reviews (status, id);
CREATE INDEX reviews_by_merchant ON reviews (merchant_id, status, id);

CREATE TABLE review_products (
    product_id TEXT NOT NULL,
    review_id TEXT NOT NULL,
    PRIMARY KEY (product_id, review_id)
);
CREATE INDEX review_products_by_review ON review_products (review_id);

-- Published ratings per merchant and per product, kept with each approval.
CREATE TABLE ratings (
    kind TEXT NOT NULL CHECK (kind IN ('merchant', 'product')),
    subject_id TEXT NOT NULL,
    count BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (kind, subject_id)
);
