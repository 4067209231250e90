//! Inventory's SQL. Stock changes only by conditional updates, never read-then-write, except
//! where every slot of a product is locked first (a count, a merge); the
//! `CHECK (on_hand - reserved >= 0)` on each slot stands behind them.
//!
//! A product's stock is one row per slot (see [`Slot`]); slot 0 is the gate: whoever adds,
//! removes or rebalances slots locks it first, so that nobody sees half of such a change.

use crate::domain::{DEFAULT_LOCATION, ReservationStatus, Slot, Stock};
use ordo_db::{Db, Encode, Error, Executor, FromRow, StatusMove, Tx, Value, params};
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(ReservationStatus);

/// What a product has available after a change to one of its slots: that slot's free units
/// as changed, and the others' as this transaction sees them.
const AVAILABLE: &str =
    "on_hand - reserved + (SELECT CAST(COALESCE(SUM(s.on_hand - s.reserved), 0) AS BIGINT)
    FROM stock s WHERE s.product_id = stock.product_id AND s.location = stock.location
    AND s.slot <> stock.slot) AS available";

#[derive(FromRow)]
struct StockRow {
    on_hand: i64,
    reserved: i64,
    slots: i64,
}

/// The product's stock, its slots added up; `None` when it has never been counted.
pub async fn stock(mut db: impl Executor, product_id: Uuid) -> Result<Option<Stock>, Error> {
    let row: Option<StockRow> = db
        .fetch_optional(
            "SELECT CAST(SUM(on_hand) AS BIGINT) AS on_hand, CAST(SUM(reserved) AS BIGINT) AS reserved,
                    COUNT(*) AS slots
             FROM stock WHERE product_id = $1 AND location = $2 HAVING COUNT(*) > 0",
            params![product_id, DEFAULT_LOCATION],
        )
        .await?;
    Ok(row.map(|row| Stock {
        on_hand: row.on_hand,
        reserved: row.reserved,
        slots: row.slots,
    }))
}

/// Gives a product that has no stock yet its slot 0, empty, so that it can be counted.
pub async fn open(
    tx: &mut Tx,
    product_id: Uuid,
    merchant_id: Uuid,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO stock (product_id, location, slot, merchant_id, on_hand, reserved, updated_at)
         VALUES ($1, $2, 0, $3, 0, 0, $4) ON CONFLICT (product_id, location, slot) DO NOTHING",
        params![product_id, DEFAULT_LOCATION, merchant_id, at],
    )
    .await
    .map(drop)
}

/// A product's slots under their locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub merchant_id: Uuid,
    /// In slot order.
    pub slots: Vec<Slot>,
}

/// Every slot of the product, locked until the transaction ends: the gate (slot 0) first,
/// then the rest as they are once it is held. `None` when the product has no stock.
pub async fn lock_slots(
    tx: &mut Tx,
    product_id: Uuid,
    at: OffsetDateTime,
) -> Result<Option<Locked>, Error> {
    let gate = tx
        .execute(
            "UPDATE stock SET updated_at = $3 WHERE product_id = $1 AND location = $2 AND slot = 0",
            params![product_id, DEFAULT_LOCATION, at],
        )
        .await?;
    if gate == 0 {
        return Ok(None);
    }
    let rows: Vec<(Uuid, i64, i64, i64)> = tx
        .fetch_all(
            "UPDATE stock SET updated_at = $3 WHERE product_id = $1 AND location = $2
             RETURNING merchant_id, slot, on_hand, reserved",
            params![product_id, DEFAULT_LOCATION, at],
        )
        .await?;
    let Some(&(merchant_id, ..)) = rows.first() else {
        return Ok(None);
    };
    let mut slots: Vec<Slot> = rows
        .into_iter()
        .map(|(_, slot, on_hand, reserved)| Slot {
            slot,
            on_hand,
            reserved,
        })
        .collect();
    slots.sort_by_key(|s| s.slot);
    Ok(Some(Locked { merchant_id, slots }))
}

/// The product's level when it is kept in several slots and none has a unit left.
pub async fn sold_out_in_slots(db: &Db, product_id: Uuid) -> Result<Option<Level>, Error> {
    db.fetch_optional(
        "SELECT product_id, merchant_id, CAST(SUM(on_hand - reserved) AS BIGINT) AS available
         FROM stock WHERE product_id = $1 AND location = $2
         GROUP BY product_id, merchant_id
         HAVING COUNT(*) > 1 AND SUM(on_hand - reserved) = 0",
        params![product_id, DEFAULT_LOCATION],
    )
    .await
}

/// Writes the product's slots as `slots` says, adding those it did not have; under
/// [`lock_slots`].
pub async fn write_slots(
    tx: &mut Tx,
    product_id: Uuid,
    merchant_id: Uuid,
    slots: &[Slot],
    at: OffsetDateTime,
) -> Result<(), Error> {
    if slots.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO stock (product_id, location, slot, merchant_id, on_hand, reserved, updated_at)
         VALUES {} ON CONFLICT (product_id, location, slot) DO UPDATE
           SET on_hand = excluded.on_hand, reserved = excluded.reserved,
               updated_at = excluded.updated_at",
        ordo_db::sql::rows(slots.len(), 7)
    );
    let mut params: Vec<Value> = Vec::with_capacity(slots.len() * 7);
    for slot in slots {
        params.extend([
            product_id.encode(),
            DEFAULT_LOCATION.encode(),
            slot.slot.encode(),
            merchant_id.encode(),
            slot.on_hand.encode(),
            slot.reserved.encode(),
            at.encode(),
        ]);
    }
    tx.execute(&sql, &params).await.map(drop)
}

/// Removes the product's slots from `from` on, once [`write_slots`] gave what they had
/// reserved to slot 0: the lines of held reservations move there with it.
pub async fn retire_slots(tx: &mut Tx, product_id: Uuid, from: i64) -> Result<(), Error> {
    tx.execute(
        "UPDATE reservation_lines SET slot = 0
         WHERE product_id = $1 AND location = $2 AND slot >= $3
           AND order_id IN (SELECT order_id FROM reservations WHERE status = 'held')",
        params![product_id, DEFAULT_LOCATION, from],
    )
    .await?;
    tx.execute(
        "DELETE FROM stock WHERE product_id = $1 AND location = $2 AND slot >= $3",
        params![product_id, DEFAULT_LOCATION, from],
    )
    .await
    .map(drop)
}

/// Holds `quantity` more for the order's line of the product, in the slot the line names, if
/// that slot has that many: the product's level then, or `None` when it has not.
pub async fn hold(
    tx: &mut Tx,
    order_id: Uuid,
    product_id: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<Option<Level>, Error> {
    tx.fetch_optional(
        &format!(
            "UPDATE stock SET reserved = reserved + $3, updated_at = $4
             WHERE product_id = $1 AND location = $2 AND on_hand - reserved >= $3
               AND slot = (SELECT l.slot FROM reservation_lines l
                           WHERE l.order_id = $5 AND l.product_id = $1 AND l.location = $2)
             RETURNING product_id, merchant_id, {AVAILABLE}"
        ),
        params![product_id, DEFAULT_LOCATION, quantity, at, order_id],
    )
    .await
}

/// Makes the order's line of the product hold from `slot`.
pub async fn set_line_slot(
    tx: &mut Tx,
    order_id: Uuid,
    product_id: Uuid,
    slot: i64,
) -> Result<(), Error> {
    tx.execute(
        "UPDATE reservation_lines SET slot = $4 WHERE order_id = $1 AND product_id = $2 AND location = $3",
        params![order_id, product_id, DEFAULT_LOCATION, slot],
    )
    .await
    .map(drop)
}

/// A product's stock after a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct Level {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub available: i64,
}

/// What moving a reservation does to its lines' stock.
#[derive(Debug, Clone, Copy)]
pub enum Movement {
    /// Paid: the held units leave the shelf.
    Commit,
    /// Unpaid: the held units are free again.
    Release,
    /// Paid, then cancelled: the units come back on the shelf.
    Return,
}

/// Moves the order's reserved lines, each in the slot it holds from (units that come back
/// go to slot 0); returns the levels of the products moved.
pub async fn apply(
    tx: &mut Tx,
    order_id: Uuid,
    movement: Movement,
    at: OffsetDateTime,
) -> Result<Vec<Level>, Error> {
    let set = match movement {
        Movement::Commit => "on_hand = on_hand - l.quantity, reserved = reserved - l.quantity",
        Movement::Release => "reserved = reserved - l.quantity",
        Movement::Return => "on_hand = on_hand + l.quantity",
    };
    let (line, rows) = match movement {
        Movement::Commit | Movement::Release => (
            "AND l.slot = stock.slot",
            "(product_id, location, slot) IN (SELECT product_id, location, slot FROM reservation_lines WHERE order_id = $1)",
        ),
        Movement::Return => (
            "",
            "slot = 0 AND (product_id, location) IN (SELECT product_id, location FROM reservation_lines WHERE order_id = $1)",
        ),
    };
    // Correlated per line; portable between SQLite and PostgreSQL (no UPDATE … FROM).
    let set = set.replace(
        "l.quantity",
        &format!("(SELECT l.quantity FROM reservation_lines l WHERE l.order_id = $1 AND l.product_id = stock.product_id AND l.location = stock.location {line})"),
    );
    tx.fetch_all(
        &format!(
            "UPDATE stock SET {set}, updated_at = $2 WHERE {rows}
             RETURNING product_id, merchant_id, {AVAILABLE}"
        ),
        params![order_id, at],
    )
    .await
}

pub async fn reservation(tx: &mut Tx, order_id: Uuid) -> Result<Option<ReservationStatus>, Error> {
    let row: Option<(ReservationStatus,)> = tx
        .fetch_optional(
            "SELECT status FROM reservations WHERE order_id = $1",
            params![order_id],
        )
        .await?;
    Ok(row.map(|(status,)| status))
}

pub async fn insert_reservation(
    tx: &mut Tx,
    order_id: Uuid,
    lines: &[(Uuid, i64)],
    expires_at: OffsetDateTime,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<(), Error> {
    // The reservation and its lines in one round trip on PostgreSQL.
    let mut batch = tx.batch();
    batch.execute(
        "INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at, held_traceparent) VALUES ($1, 'held', $2, $3, $3, $4)",
        params![order_id, expires_at, at, traceparent],
    );
    // One statement for all the lines: a reservation holds at most MAX_LINES of them. Each
    // line holds from a slot drawn among those with enough, if any (see `hold`).
    let sql = format!(
        "INSERT INTO reservation_lines (order_id, product_id, location, slot, quantity) VALUES {}",
        (0..lines.len())
            .map(|line| {
                let n = line * 4;
                let (order, product, location, quantity) = (n + 1, n + 2, n + 3, n + 4);
                format!(
                    "(${order}, ${product}, ${location}, COALESCE((SELECT slot FROM stock
                       WHERE product_id = ${product} AND location = ${location}
                         AND on_hand - reserved >= ${quantity} ORDER BY random() LIMIT 1), 0),
                      ${quantity})"
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut params: Vec<Value> = Vec::with_capacity(lines.len() * 4);
    for (product_id, quantity) in lines {
        params.extend([
            order_id.encode(),
            product_id.encode(),
            DEFAULT_LOCATION.encode(),
            quantity.encode(),
        ]);
    }
    if !lines.is_empty() {
        batch.execute(sql, &params);
    }
    tx.run(batch).await?;
    Ok(())
}

/// The lines of the order's reservation, in product order.
pub async fn lines(tx: &mut Tx, order_id: Uuid) -> Result<Vec<(Uuid, i64)>, Error> {
    tx.fetch_all(
        "SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY product_id",
        params![order_id],
    )
    .await
}

/// Gives back `quantity` held by `hold` for the order's line of the product in the same
/// transaction, when the rest of an all-or-nothing hold failed.
pub async fn unhold(
    tx: &mut Tx,
    order_id: Uuid,
    product_id: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "UPDATE stock SET reserved = reserved - $3, updated_at = $4
         WHERE product_id = $1 AND location = $2
           AND slot = (SELECT l.slot FROM reservation_lines l
                       WHERE l.order_id = $5 AND l.product_id = $1 AND l.location = $2)",
        params![product_id, DEFAULT_LOCATION, quantity, at, order_id],
    )
    .await
    .map(drop)
}

/// Records that nothing may ever be held for `order_id`: its checkout was given up before
/// it reserved (a late reservation then finds this and holds nothing). False when a
/// reservation was made meanwhile.
pub async fn insert_given_up(
    tx: &mut Tx,
    order_id: Uuid,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at, held_traceparent, moved_traceparent)
         VALUES ($1, 'released', $2, $2, $2, $3, $3) ON CONFLICT (order_id) DO NOTHING",
            params![order_id, at, traceparent],
        )
        .await?;
    Ok(changed == 1)
}

/// Moves the reservation from `from` to `to`, in the trace of what moved it. False when it
/// was not in `from` (already moved, or never made): the caller then changes nothing.
pub async fn transition(
    tx: &mut Tx,
    order_id: Uuid,
    from: ReservationStatus,
    to: ReservationStatus,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, Error> {
    StatusMove::new("reservations", "order_id", order_id, from, to)
        .set("updated_at", at)
        .set("moved_traceparent", traceparent)
        .run(tx)
        .await
}

/// Makes a hold last until `until` at least; false when the order holds nothing (any more).
pub async fn extend_hold(
    tx: &mut Tx,
    order_id: Uuid,
    until: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE reservations SET expires_at = CASE WHEN expires_at < $2 THEN $2 ELSE expires_at END, updated_at = $3
         WHERE order_id = $1 AND status = 'held'",
            params![order_id, until, at],
        )
        .await?;
    Ok(changed == 1)
}

/// Held reservations whose hold ran out, oldest first.
pub async fn expired(db: &Db, now: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>, Error> {
    let rows: Vec<(Uuid,)> = db
        .fetch_all(
            "SELECT order_id FROM reservations WHERE status = 'held' AND expires_at < $1 ORDER BY expires_at LIMIT $2",
            params![now, limit],
        )
        .await?;
    Ok(rows.into_iter().map(|(order_id,)| order_id).collect())
}

/// The order's reservation for its timeline: its status, when it was held and until when,
/// when its status last changed, how many units it holds, and the traces of its hold and
/// of its last move.
pub async fn reservation_steps(db: &Db, order_id: Uuid) -> Result<Option<ReservationSteps>, Error> {
    db.fetch_optional(
        "SELECT r.status, r.expires_at, r.created_at, r.updated_at, r.held_traceparent,
                r.moved_traceparent,
                CAST((SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l WHERE l.order_id = r.order_id) AS BIGINT) AS units
         FROM reservations r WHERE r.order_id = $1",
        params![order_id],
    )
    .await
}

/// What [`reservation_steps`] reads.
#[derive(Debug, Clone, FromRow)]
pub struct ReservationSteps {
    pub status: ReservationStatus,
    pub units: i64,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub held_traceparent: Option<String>,
    pub moved_traceparent: Option<String>,
}
