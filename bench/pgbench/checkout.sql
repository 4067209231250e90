-- One checkout's writes on the request path, as one transaction, on the tables of the
-- orders and inventory services (`ordo bench checkout --backend postgres` runs it with pgbench
-- on its run's schemas, orders first in the search path): the idempotency claim,
-- the reservation with its line and then the stock it holds (a conditional update of one of
-- the product's slots), the order with its line,
-- history entry and `order.placed` event, and the stored answer. Ordo spreads them over
-- three transactions in two services' schemas; here they are the least one order costs.
-- Run with `-M prepared`, as Ordo's statements are: variables are parameters, hence the casts;
-- and with `-D products=N -D slots=S`: each order takes one of N products at random, whose ids
-- are 00000000-0000-4000-8000-{N in 12 hex digits}, from one of its S slots at random
-- (`ordo bench checkout` stocks them).
\set product random(1, :products)
\set slot random(0, :slots - 1)
SELECT gen_random_uuid() AS order_id, gen_random_uuid() AS key, clock_timestamp() AS now,
       ('00000000-0000-4000-8000-' || lpad(to_hex(:product::bigint), 12, '0'))::uuid AS product_id,
       ('00000000-0000-4000-9000-' || lpad(to_hex(:client_id::bigint), 12, '0'))::uuid AS customer_id \gset
BEGIN;
INSERT INTO idempotency_keys (customer_id, key, request_hash, status, order_id, created_at)
    VALUES (:customer_id::uuid, :key::text, 'hash', 'running', :order_id::uuid, :now::timestamptz)
    ON CONFLICT (customer_id, key) DO NOTHING;
INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at)
    VALUES (:order_id::uuid, 'held', :now::timestamptz + interval '15 minutes', :now::timestamptz,
            :now::timestamptz);
INSERT INTO reservation_lines (order_id, product_id, location, slot, quantity)
    VALUES (:order_id::uuid, :product_id::uuid, 'default', :slot, 1);
UPDATE stock SET reserved = reserved + 1, updated_at = :now::timestamptz
    WHERE product_id = :product_id::uuid AND location = 'default' AND slot = :slot
      AND on_hand - reserved >= 1;
INSERT INTO orders (id, customer_id, merchant_id, status, fulfilment, address, payment_method_id,
                    currency, subtotal, tip, total, notes, created_at, updated_at)
    VALUES (:order_id::uuid, :customer_id::uuid, '00000000-0000-4000-a000-000000000001',
            'pending_payment', 'pickup', NULL, '00000000-0000-4000-b000-000000000001', 'EUR', 500,
            0, 500, NULL, :now::timestamptz, :now::timestamptz);
INSERT INTO order_lines (order_id, line_no, product_id, name, unit_price, quantity)
    VALUES (:order_id::uuid, 0, :product_id::uuid, 'Soup', 500, 1);
INSERT INTO order_history (id, order_id, from_status, to_status, actor, actor_id, cause, at)
    VALUES (gen_random_uuid(), :order_id::uuid, NULL, 'pending_payment', 'customer',
            :customer_id::uuid, 'placed', :now::timestamptz);
INSERT INTO bus_outbox (id, type, source, subject, time, dataversion, data)
    VALUES (gen_random_uuid(), 'order.placed', 'orders', :order_id::text, :now::timestamptz, 1,
            '{"order_id":"' || :order_id::text || '","lines":[{"product_id":"' || :product_id::text || '","quantity":1}],"total":{"amount":500,"currency":"EUR"}}');
UPDATE idempotency_keys SET status = 'done', response_status = 201,
       response_body = '{"id":"' || :order_id::text || '","status":"pending_payment"}'
    WHERE customer_id = :customer_id::uuid AND key = :key::text AND order_id = :order_id::uuid;
COMMIT;
