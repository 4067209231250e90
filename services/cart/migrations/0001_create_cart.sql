-- Each customer's cart: products and quantities only; prices are the catalogue's, read
-- when the cart is.
CREATE TABLE cart_items (
    customer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    added_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, product_id)
);
