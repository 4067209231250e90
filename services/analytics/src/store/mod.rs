//! The reports' tables: the journal of facts, each order's facts for attributing later
//! ones, and the hourly counters (merchant `''` is the whole platform).

use crate::domain::{Bucket, Counts, Fact, Period, Timing};
use ordo_db::row::{instant, millis, opt_instant, uuid};
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// The whole platform's counters.
pub const PLATFORM: &str = "";

/// Keeps a fact. False when the event was journaled before (nothing is written).
pub async fn journal<'c>(
    executor: impl Executor<'c, Database = Any>,
    event_id: Uuid,
    event_type: &str,
    at: OffsetDateTime,
    fact: &Fact,
) -> Result<bool, sqlx::Error> {
    let data = serde_json::to_string(fact).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let done = sqlx::query(
        "INSERT INTO journal (event_id, event_type, at, data) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id.to_string())
    .bind(event_type)
    .bind(millis(at))
    .bind(data)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Journaled facts in the order they happened, after `after` (instant, event id), at
/// most `limit`.
pub async fn journaled<'c>(
    executor: impl Executor<'c, Database = Any>,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<(OffsetDateTime, Uuid, Fact)>, sqlx::Error> {
    let (at, id) = after.map_or((i64::MIN, String::new()), |(at, id)| {
        (millis(at), id.to_string())
    });
    sqlx::query(
        "SELECT event_id, at, data FROM journal WHERE at > $1 OR (at = $1 AND event_id > $2)
         ORDER BY at, event_id LIMIT $3",
    )
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let data: String = row.try_get("data")?;
        let fact = serde_json::from_str(&data).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok((instant(row, "at")?, uuid(row, "event_id")?, fact))
    })
    .collect()
}

/// What the reports know of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub merchant_id: Uuid,
    pub currency: String,
    pub total: i64,
    pub placed_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub ready_at: Option<OffsetDateTime>,
    pub picked_up_at: Option<OffsetDateTime>,
}

pub async fn placed<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    merchant_id: Uuid,
    currency: &str,
    total: i64,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_facts (order_id, merchant_id, currency, total, placed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id.to_string())
    .bind(merchant_id.to_string())
    .bind(currency)
    .bind(total)
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Records when the order reached a step that later timings start from. False when it
/// had been recorded before (nothing is written).
pub async fn reached<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    step: Step,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let column = match step {
        Step::Accepted => "accepted_at",
        Step::Ready => "ready_at",
        Step::PickedUp => "picked_up_at",
    };
    let done = sqlx::query(&format!(
        "UPDATE order_facts SET {column} = $2 WHERE order_id = $1 AND {column} IS NULL"
    ))
    .bind(order_id.to_string())
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Accepted,
    Ready,
    PickedUp,
}

pub async fn order<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<OrderFacts>, sqlx::Error> {
    sqlx::query(
        "SELECT merchant_id, currency, total, placed_at, accepted_at, ready_at, picked_up_at
         FROM order_facts WHERE order_id = $1",
    )
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?
    .map(|row| {
        Ok(OrderFacts {
            merchant_id: uuid(&row, "merchant_id")?,
            currency: row.try_get("currency")?,
            total: row.try_get("total")?,
            placed_at: instant(&row, "placed_at")?,
            accepted_at: opt_instant(&row, "accepted_at")?,
            ready_at: opt_instant(&row, "ready_at")?,
            picked_up_at: opt_instant(&row, "picked_up_at")?,
        })
    })
    .transpose()
}

/// Adds `counts` to the counters of `merchant` (its id, or [`PLATFORM`]) for the hour
/// starting at `hour`.
pub async fn add<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &str,
    hour: OffsetDateTime,
    currency: &str,
    counts: &Counts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hourly (merchant_id, hour, currency, orders, from_cart, basket_total,
                             captured, refunded, completed, cancelled, rejected, carts,
                             completed_total)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (merchant_id, hour, currency) DO UPDATE SET
            carts = hourly.carts + excluded.carts,
            orders = hourly.orders + excluded.orders,
            from_cart = hourly.from_cart + excluded.from_cart,
            basket_total = hourly.basket_total + excluded.basket_total,
            captured = hourly.captured + excluded.captured,
            refunded = hourly.refunded + excluded.refunded,
            completed = hourly.completed + excluded.completed,
            completed_total = hourly.completed_total + excluded.completed_total,
            cancelled = hourly.cancelled + excluded.cancelled,
            rejected = hourly.rejected + excluded.rejected",
    )
    .bind(merchant)
    .bind(millis(hour))
    .bind(currency)
    .bind(counts.orders)
    .bind(counts.from_cart)
    .bind(counts.basket_total)
    .bind(counts.captured)
    .bind(counts.refunded)
    .bind(counts.completed)
    .bind(counts.cancelled)
    .bind(counts.rejected)
    .bind(counts.carts)
    .bind(counts.completed_total)
    .execute(executor)
    .await
    .map(|_| ())
}

/// The counters of `merchant` (or [`PLATFORM`]) over `period`, summed per bucket and
/// currency, oldest first; buckets with nothing are left out.
pub async fn buckets<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &str,
    period: &Period,
) -> Result<Vec<Bucket>, sqlx::Error> {
    over_period(
        "SELECT hour - (hour % $4) AS start, currency,
                CAST(SUM(carts) AS BIGINT) AS carts,
                CAST(SUM(orders) AS BIGINT) AS orders,
                CAST(SUM(from_cart) AS BIGINT) AS from_cart,
                CAST(SUM(basket_total) AS BIGINT) AS basket_total,
                CAST(SUM(captured) AS BIGINT) AS captured,
                CAST(SUM(refunded) AS BIGINT) AS refunded,
                CAST(SUM(completed) AS BIGINT) AS completed,
                CAST(SUM(completed_total) AS BIGINT) AS completed_total,
                CAST(SUM(cancelled) AS BIGINT) AS cancelled,
                CAST(SUM(rejected) AS BIGINT) AS rejected
         FROM hourly WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY 1, 2 ORDER BY 1, 2",
        merchant,
        period,
    )
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let sum = |column: &str| -> Result<i64, sqlx::Error> { row.try_get(column) };
        Ok(Bucket {
            start: instant(row, "start")?,
            currency: row.try_get("currency")?,
            counts: Counts {
                carts: sum("carts")?,
                orders: sum("orders")?,
                from_cart: sum("from_cart")?,
                basket_total: sum("basket_total")?,
                captured: sum("captured")?,
                refunded: sum("refunded")?,
                completed: sum("completed")?,
                completed_total: sum("completed_total")?,
                cancelled: sum("cancelled")?,
                rejected: sum("rejected")?,
            },
        })
    })
    .collect()
}

/// Counts one duration of `timing` in `bin` for `merchant` (or [`PLATFORM`]).
pub async fn add_timing<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &str,
    hour: OffsetDateTime,
    timing: Timing,
    bin: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO timings (merchant_id, hour, kind, bin, count) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (merchant_id, hour, kind, bin) DO UPDATE SET count = timings.count + 1",
    )
    .bind(merchant)
    .bind(millis(hour))
    .bind(timing.as_str())
    .bind(bin)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Counts one order that ended as `outcome` (`cancelled` or `rejected`) for `cause`.
pub async fn add_cause<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &str,
    hour: OffsetDateTime,
    outcome: &str,
    cause: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO causes (merchant_id, hour, outcome, cause, count) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (merchant_id, hour, outcome, cause) DO UPDATE SET count = causes.count + 1",
    )
    .bind(merchant)
    .bind(millis(hour))
    .bind(outcome)
    .bind(cause)
    .execute(executor)
    .await
    .map(|_| ())
}

/// Durations of `merchant` (or [`PLATFORM`]) over `period`: per bucket start, kind and
/// bin, the count.
pub async fn timings<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &str,
    period: &Period,
) -> Result<Vec<(OffsetDateTime, String, i64, i64)>, sqlx::Error> {
    over_period(
        "SELECT hour - (hour % $4) AS start, kind, bin, CAST(SUM(count) AS BIGINT) AS count
         FROM timings WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        merchant,
        period,
    )
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok((
            instant(row, "start")?,
            row.try_get("kind")?,
            row.try_get("bin")?,
            row.try_get("count")?,
        ))
    })
    .collect()
}

/// Endings of `merchant` (or [`PLATFORM`]) over `period`: per bucket start, outcome and
/// cause, the count.
pub async fn causes<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &str,
    period: &Period,
) -> Result<Vec<(OffsetDateTime, String, String, i64)>, sqlx::Error> {
    over_period(
        "SELECT hour - (hour % $4) AS start, outcome, cause, CAST(SUM(count) AS BIGINT) AS count
         FROM causes WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        merchant,
        period,
    )
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok((
            instant(row, "start")?,
            row.try_get("outcome")?,
            row.try_get("cause")?,
            row.try_get("count")?,
        ))
    })
    .collect()
}

/// `sql` with what it reads bound: the merchant (or [`PLATFORM`]) as `$1`, the period as
/// `$2` and `$3`, a bucket's length as `$4`, all in the unit the tables keep instants in.
fn over_period<'q>(
    sql: &'q str,
    merchant: &'q str,
    period: &Period,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    let bucket = i64::try_from(period.bucket.length().whole_milliseconds()).unwrap_or(i64::MAX);
    sqlx::query(sql)
        .bind(merchant)
        .bind(millis(period.from))
        .bind(millis(period.to))
        .bind(bucket)
}

/// Empties what the journal rebuilds.
pub async fn clear(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    for table in ["hourly", "timings", "causes", "order_facts"] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
