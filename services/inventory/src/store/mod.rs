//! Inventory's SQL. Stock changes only by conditional updates, never read-then-write; the
//! `CHECK (on_hand - reserved >= 0)` stands behind them.

use crate::domain::{DEFAULT_LOCATION, ReservationStatus, Stock};
use ordo_db::{Db, Encode, Error, Executor, FromRow, Tx, Value, params, sql};
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(ReservationStatus);

#[derive(FromRow)]
struct StockRow {
    on_hand: i64,
    reserved: i64,
}

pub async fn stock(mut db: impl Executor, product_id: Uuid) -> Result<Option<Stock>, Error> {
    let row: Option<StockRow> = db
        .fetch_optional(
            "SELECT on_hand, reserved FROM stock WHERE product_id = $1 AND location = $2",
            params![product_id, DEFAULT_LOCATION],
        )
        .await?;
    Ok(row.map(|row| Stock {
        on_hand: row.on_hand,
        reserved: row.reserved,
    }))
}

/// Sets the level counted on the shelf. False when it would be below what is reserved.
pub async fn set_on_hand(
    tx: &mut Tx,
    product_id: Uuid,
    merchant_id: Uuid,
    on_hand: i64,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "INSERT INTO stock (product_id, location, merchant_id, on_hand, reserved, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5)
         ON CONFLICT (product_id, location) DO UPDATE
           SET on_hand = excluded.on_hand, updated_at = excluded.updated_at
           WHERE stock.reserved <= excluded.on_hand",
            params![product_id, DEFAULT_LOCATION, merchant_id, on_hand, at],
        )
        .await?;
    Ok(changed == 1)
}

/// Holds `quantity` more if that many are available: the level left then, or `None` when
/// they are not.
pub async fn hold(
    tx: &mut Tx,
    product_id: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<Option<Level>, Error> {
    tx.fetch_optional(
        "UPDATE stock SET reserved = reserved + $3, updated_at = $4
         WHERE product_id = $1 AND location = $2 AND on_hand - reserved >= $3
         RETURNING product_id, merchant_id, on_hand - reserved AS available",
        params![product_id, DEFAULT_LOCATION, quantity, at],
    )
    .await
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

/// Moves the order's reserved lines; returns the levels of the products moved.
pub async fn apply(
    tx: &mut Tx,
    order_id: Uuid,
    movement: Movement,
    at: OffsetDateTime,
) -> Result<Vec<Level>, Error> {
    let sql = match movement {
        Movement::Commit => {
            "UPDATE stock SET on_hand = on_hand - l.quantity, reserved = reserved - l.quantity"
        }
        Movement::Release => "UPDATE stock SET reserved = reserved - l.quantity",
        Movement::Return => "UPDATE stock SET on_hand = on_hand + l.quantity",
    };
    // Correlated per line; portable between SQLite and PostgreSQL (no UPDATE … FROM).
    let sql = sql.replace("l.quantity", "(SELECT l.quantity FROM reservation_lines l WHERE l.order_id = $1 AND l.product_id = stock.product_id AND l.location = stock.location)");
    tx.fetch_all(
        &format!(
            "{sql}, updated_at = $2 WHERE (product_id, location) IN
           (SELECT product_id, location FROM reservation_lines WHERE order_id = $1)
         RETURNING product_id, merchant_id, on_hand - reserved AS available"
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
    tx.execute(
        "INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at, held_traceparent) VALUES ($1, 'held', $2, $3, $3, $4)",
        params![order_id, expires_at, at, traceparent],
    )
    .await?;
    if lines.is_empty() {
        return Ok(());
    }
    // One statement for all the lines: a reservation holds at most MAX_LINES of them.
    let sql = format!(
        "INSERT INTO reservation_lines (order_id, product_id, location, quantity) VALUES {}",
        sql::rows(lines.len(), 4)
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
    tx.execute(&sql, &params).await?;
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

/// Gives back `quantity` held by `hold` in the same transaction, when the rest of an
/// all-or-nothing hold failed.
pub async fn unhold(
    tx: &mut Tx,
    product_id: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "UPDATE stock SET reserved = reserved - $3, updated_at = $4
         WHERE product_id = $1 AND location = $2",
        params![product_id, DEFAULT_LOCATION, quantity, at],
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
    let changed = tx
        .execute(
            "UPDATE reservations SET status = $3, updated_at = $4, moved_traceparent = $5
         WHERE order_id = $1 AND status = $2",
            params![order_id, from, to, at, traceparent],
        )
        .await?;
    Ok(changed == 1)
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
