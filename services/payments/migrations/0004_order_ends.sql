-- Orders that ended before capture (cancelled, rejected), as their events told payments:
-- a placement handled after its order's end authorises nothing, and an operator may void
-- an authorisation that stands on an ended order.
CREATE TABLE order_ends (
    order_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    ended_at BIGINT NOT NULL
);
