//! Inventory's SQL. Stock changes only by conditional updates, never read-then-write; the
//! `CHECK (on_hand - reserved >= 0)` stands behind them.

use crate::domain::{DEFAULT_LOCATION, ReservationStatus, Stock};
use ordo_db::row::millis;
use ordo_db::sql;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

pub async fn stock<'c>(
    executor: impl Executor<'c, Database = Any>,
    product_id: Uuid,
) -> Result<Option<Stock>, sqlx::Error> {
    sqlx::query("SELECT on_hand, reserved FROM stock WHERE product_id = $1 AND location = $2")
        .bind(product_id.to_string())
        .bind(DEFAULT_LOCATION)
        .fetch_optional(executor)
        .await?
        .map(|row| {
            Ok(Stock {
                on_hand: row.try_get("on_hand")?,
                reserved: row.try_get("reserved")?,
            })
        })
        .transpose()
}

/// Sets the level counted on the shelf. False when it would be below what is reserved.
pub async fn set_on_hand<'c>(
    executor: impl Executor<'c, Database = Any>,
    product_id: Uuid,
    merchant_id: Uuid,
    on_hand: i64,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO stock (product_id, location, merchant_id, on_hand, reserved, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5)
         ON CONFLICT (product_id, location) DO UPDATE
           SET on_hand = excluded.on_hand, updated_at = excluded.updated_at
           WHERE stock.reserved <= excluded.on_hand",
    )
    .bind(product_id.to_string())
    .bind(DEFAULT_LOCATION)
    .bind(merchant_id.to_string())
    .bind(on_hand)
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Holds `quantity` more if that many are available: the level left then, or `None` when
/// they are not.
pub async fn hold<'c>(
    executor: impl Executor<'c, Database = Any>,
    product_id: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<Option<Level>, sqlx::Error> {
    sqlx::query(
        "UPDATE stock SET reserved = reserved + $3, updated_at = $4
         WHERE product_id = $1 AND location = $2 AND on_hand - reserved >= $3
         RETURNING product_id, merchant_id, on_hand - reserved AS available",
    )
    .bind(product_id.to_string())
    .bind(DEFAULT_LOCATION)
    .bind(quantity)
    .bind(millis(at))
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(level)
    .transpose()
}

fn level(row: &AnyRow) -> Result<Level, sqlx::Error> {
    Ok(Level {
        product_id: ordo_db::row::uuid(row, "product_id")?,
        merchant_id: ordo_db::row::uuid(row, "merchant_id")?,
        available: row.try_get("available")?,
    })
}

/// A product's stock after a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
pub async fn apply<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    movement: Movement,
    at: OffsetDateTime,
) -> Result<Vec<Level>, sqlx::Error> {
    let sql = match movement {
        Movement::Commit => {
            "UPDATE stock SET on_hand = on_hand - l.quantity, reserved = reserved - l.quantity"
        }
        Movement::Release => "UPDATE stock SET reserved = reserved - l.quantity",
        Movement::Return => "UPDATE stock SET on_hand = on_hand + l.quantity",
    };
    // Correlated per line; portable between SQLite and PostgreSQL (no UPDATE … FROM).
    let sql = sql.replace("l.quantity", "(SELECT l.quantity FROM reservation_lines l WHERE l.order_id = $1 AND l.product_id = stock.product_id AND l.location = stock.location)");
    sqlx::query(&format!(
        "{sql}, updated_at = $2 WHERE (product_id, location) IN
           (SELECT product_id, location FROM reservation_lines WHERE order_id = $1)
         RETURNING product_id, merchant_id, on_hand - reserved AS available"
    ))
    .bind(order_id.to_string())
    .bind(millis(at))
    .fetch_all(executor)
    .await?
    .iter()
    .map(level)
    .collect()
}

pub async fn reservation<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<ReservationStatus>, sqlx::Error> {
    sqlx::query("SELECT status FROM reservations WHERE order_id = $1")
        .bind(order_id.to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| {
            row.try_get::<String, _>("status")?
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))
        })
        .transpose()
}

pub async fn insert_reservation(
    conn: &mut AnyConnection,
    order_id: Uuid,
    lines: &[(Uuid, i64)],
    expires_at: OffsetDateTime,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at, held_traceparent) VALUES ($1, 'held', $2, $3, $3, $4)")
        .bind(order_id.to_string())
        .bind(millis(expires_at))
        .bind(millis(at))
        .bind(traceparent)
        .execute(&mut *conn)
        .await?;
    if lines.is_empty() {
        return Ok(());
    }
    // One statement for all the lines: a reservation holds at most MAX_LINES of them.
    let sql = format!(
        "INSERT INTO reservation_lines (order_id, product_id, location, quantity) VALUES {}",
        sql::rows(lines.len(), 4)
    );
    let mut insert = sqlx::query(&sql);
    for (product_id, quantity) in lines {
        insert = insert
            .bind(order_id.to_string())
            .bind(product_id.to_string())
            .bind(DEFAULT_LOCATION)
            .bind(*quantity);
    }
    insert.execute(&mut *conn).await?;
    Ok(())
}

/// The lines of the order's reservation, in product order.
pub async fn lines<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY product_id",
    )
    .bind(order_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| Ok((ordo_db::row::uuid(row, "product_id")?, row.try_get("quantity")?)))
    .collect()
}

/// Gives back `quantity` held by `hold` in the same transaction, when the rest of an
/// all-or-nothing hold failed.
pub async fn unhold<'c>(
    executor: impl Executor<'c, Database = Any>,
    product_id: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE stock SET reserved = reserved - $3, updated_at = $4
         WHERE product_id = $1 AND location = $2",
    )
    .bind(product_id.to_string())
    .bind(DEFAULT_LOCATION)
    .bind(quantity)
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Records that nothing may ever be held for `order_id`: its checkout was given up before
/// it reserved (a late reservation then finds this and holds nothing). False when a
/// reservation was made meanwhile.
pub async fn insert_given_up<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at, held_traceparent, moved_traceparent)
         VALUES ($1, 'released', $2, $2, $2, $3, $3) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id.to_string())
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the reservation from `from` to `to`, in the trace of what moved it. False when it
/// was not in `from` (already moved, or never made): the caller then changes nothing.
pub async fn transition<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    from: ReservationStatus,
    to: ReservationStatus,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reservations SET status = $3, updated_at = $4, moved_traceparent = $5
         WHERE order_id = $1 AND status = $2",
    )
    .bind(order_id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a hold last until `until` at least; false when the order holds nothing (any more).
pub async fn extend_hold<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    until: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reservations SET expires_at = CASE WHEN expires_at < $2 THEN $2 ELSE expires_at END, updated_at = $3
         WHERE order_id = $1 AND status = 'held'",
    )
    .bind(order_id.to_string())
    .bind(millis(until))
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Held reservations whose hold ran out, oldest first.
pub async fn expired<'c>(
    executor: impl Executor<'c, Database = Any>,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query("SELECT order_id FROM reservations WHERE status = 'held' AND expires_at < $1 ORDER BY expires_at LIMIT $2")
        .bind(millis(now))
        .bind(limit)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| ordo_db::row::uuid(row, "order_id"))
        .collect()
}

/// The order's reservation for its timeline: its status, when it was held and until when,
/// when its status last changed, how many units it holds, and the traces of its hold and
/// of its last move.
pub async fn reservation_steps<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<ReservationSteps>, sqlx::Error> {
    sqlx::query(
        "SELECT r.status, r.expires_at, r.created_at, r.updated_at, r.held_traceparent,
                r.moved_traceparent,
                CAST((SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l WHERE l.order_id = r.order_id) AS BIGINT) AS units
         FROM reservations r WHERE r.order_id = $1",
    )
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?
    .map(|row| {
        Ok(ReservationSteps {
            status: row
                .try_get::<String, _>("status")?
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
            units: row.try_get("units")?,
            expires_at: ordo_db::row::instant(&row, "expires_at")?,
            created_at: ordo_db::row::instant(&row, "created_at")?,
            updated_at: ordo_db::row::instant(&row, "updated_at")?,
            held_traceparent: row.try_get("held_traceparent")?,
            moved_traceparent: row.try_get("moved_traceparent")?,
        })
    })
    .transpose()
}

/// What [`reservation_steps`] reads.
#[derive(Debug, Clone)]
pub struct ReservationSteps {
    pub status: ReservationStatus,
    pub units: i64,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub held_traceparent: Option<String>,
    pub moved_traceparent: Option<String>,
}
