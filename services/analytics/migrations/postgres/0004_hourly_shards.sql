-- Each merchant's and the platform's hour is counted in several rows (shards), each consumer
-- transaction adding to one it drew at random, so that concurrent transactions do not queue
-- on one row's lock; the reports sum them. What was counted becomes shard 0.
ALTER TABLE hourly
    ADD COLUMN shard INTEGER NOT NULL DEFAULT 0 CHECK (shard >= 0),
    DROP CONSTRAINT hourly_pkey,
    ADD PRIMARY KEY (merchant_id, hour, currency, shard);
