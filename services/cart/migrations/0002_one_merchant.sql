-- A cart holds one merchant's products (an order comes from one merchant): each line says
-- whose it is (lines added before this column say nothing, and are not compared), and
-- each customer's row is taken by every addition, so that two added at once are compared
-- one after the other.
ALTER TABLE cart_items ADD COLUMN merchant_id TEXT;
CREATE TABLE carts (
    customer_id TEXT PRIMARY KEY,
    updated_at BIGINT NOT NULL
);
