-- One checkout's writes on the request path, as one transaction, on the tables of the
-- orders and inventory services (`ordo bench checkout --backend postgres` runs it with pgbench
-- on its run's schemas, orders first in the search path): the idempotency claim,
-- the stock held (a conditional update) with its reservation, the order with its line,
-- history entry and `order.placed` event, and the stored answer. Ordo spreads them over
-- three transactions in two services' schemas; here they are the least one order costs.
-- Run with `-M prepared`, as Ordo's statements are: variables are parameters, hence the casts;
-- and with `-D products=N`: each order takes one of the products `soup-1` … `soup-N` at random.
\set product random(1, :products)
SELECT gen_random_uuid()::text AS order_id, gen_random_uuid()::text AS key,
       (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now \gset
BEGIN;
INSERT INTO idempotency_keys (customer_id, key, request_hash, status, order_id, created_at)
    VALUES ('customer-' || :client_id::text, :key::text, 'hash', 'running', :order_id::text, :now::bigint)
    ON CONFLICT (customer_id, key) DO NOTHING;
UPDATE stock SET reserved = reserved + 1, updated_at = :now::bigint
    WHERE product_id = 'soup-' || :product::text AND location = 'default' AND on_hand - reserved >= 1;
INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at)
    VALUES (:order_id::text, 'held', :now::bigint + 900000, :now::bigint, :now::bigint);
INSERT INTO reservation_lines (order_id, product_id, location, quantity)
    VALUES (:order_id::text, 'soup-' || :product::text, 'default', 1);
INSERT INTO orders (id, customer_id, merchant_id, status, fulfilment, address, payment_method_id,
                    currency, subtotal, tip, total, notes, created_at, updated_at)
    VALUES (:order_id::text, 'customer-' || :client_id::text, 'bistro', 'pending_payment', 'pickup', NULL,
            'card', 'EUR', 500, 0, 500, NULL, :now::bigint, :now::bigint);
INSERT INTO order_lines (order_id, line_no, product_id, name, unit_price, quantity)
    VALUES (:order_id::text, 0, 'soup-' || :product::text, 'Soup', 500, 1);
INSERT INTO order_history (id, order_id, from_status, to_status, actor, actor_id, cause, at)
    VALUES (gen_random_uuid()::text, :order_id::text, NULL, 'pending_payment', 'customer',
            'customer-' || :client_id::text, 'placed', :now::bigint);
INSERT INTO bus_outbox (id, type, source, subject, time, dataversion, data)
    VALUES (gen_random_uuid()::text, 'order.placed', 'orders', :order_id::text, :now::bigint, 1,
            '{"order_id":"' || :order_id::text || '","lines":[{"product_id":"soup-' || :product::text || '","quantity":1}],"total":{"amount":500,"currency":"EUR"}}');
UPDATE idempotency_keys SET status = 'done', response_status = 201,
       response_body = '{"id":"' || :order_id::text || '","status":"pending_payment"}'
    WHERE customer_id = 'customer-' || :client_id::text AND key = :key::text AND order_id = :order_id::text;
COMMIT;
