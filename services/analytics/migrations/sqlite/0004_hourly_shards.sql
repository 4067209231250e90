-- Each merchant's and the platform's hour is counted in several rows (shards), each consumer
-- transaction adding to one it drew at random, so that concurrent transactions do not queue
-- on one row's lock on PostgreSQL; the reports sum them. SQLite cannot change a primary key
-- in place: the table is rebuilt, what was counted becoming shard 0.
CREATE TABLE hourly_shards (
    merchant_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    currency TEXT NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0 CHECK (shard >= 0),
    carts BIGINT NOT NULL DEFAULT 0,
    orders BIGINT NOT NULL DEFAULT 0,
    from_cart BIGINT NOT NULL DEFAULT 0,
    basket_total BIGINT NOT NULL DEFAULT 0,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    completed BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    completed_total BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, hour, currency, shard)
) WITHOUT ROWID;
INSERT INTO hourly_shards (merchant_id, hour, currency, shard, carts, orders, from_cart,
                           basket_total, captured, refunded, completed, cancelled, rejected,
                           completed_total)
    SELECT merchant_id, hour, currency, 0, carts, orders, from_cart, basket_total, captured,
           refunded, completed, cancelled, rejected, completed_total
    FROM hourly;
DROP TABLE hourly;
ALTER TABLE hourly_shards RENAME TO hourly;
