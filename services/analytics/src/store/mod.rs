//! The reports' tables: the journal of facts, each order's facts for attributing later
//! ones, and the hourly counters (merchant `''` is the whole platform).

#[cfg(test)]
mod tests;

use crate::domain::{Bucket, Counts, Fact, Period, Timing};
use ordo_db::{Db, Dialect, Encode, Error, FromRow, Json, Kind, Tx, Value, params};
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(Timing);

/// Whose counters: a merchant's, or the whole platform's, kept as merchant `''`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    Merchant(Uuid),
    Platform,
}

/// The whole platform's counters.
pub const PLATFORM: Whose = Whose::Platform;

/// A text column: `''`, the platform, is no UUID, so a merchant's id is kept as its text.
impl Encode for Whose {
    const KIND: Kind = Kind::Text;

    fn encode(&self) -> Value {
        match self {
            Whose::Merchant(merchant_id) => merchant_id.to_string().encode(),
            Whose::Platform => "".encode(),
        }
    }
}

/// Keeps a fact. False when the event was journaled before (nothing is written).
pub async fn journal(
    tx: &mut Tx,
    event_id: Uuid,
    event_type: &str,
    at: OffsetDateTime,
    fact: &Fact,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "INSERT INTO journal (event_id, event_type, at, data) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING",
            params![event_id, event_type, at, Json(fact)],
        )
        .await?;
    Ok(changed == 1)
}

#[derive(FromRow)]
struct JournalRow {
    event_id: Uuid,
    at: OffsetDateTime,
    data: Json<Fact>,
}

/// Journaled facts in the order they happened, after `after` (instant, event id), at
/// most `limit`.
pub async fn journaled(
    tx: &mut Tx,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<(OffsetDateTime, Uuid, Fact)>, Error> {
    let rows: Vec<JournalRow> = match after {
        None => {
            tx.fetch_all(
                "SELECT event_id, at, data FROM journal ORDER BY at, event_id LIMIT $1",
                params![limit],
            )
            .await?
        }
        Some((at, id)) => {
            tx.fetch_all(
                "SELECT event_id, at, data FROM journal WHERE at > $1 OR (at = $1 AND event_id > $2)
         ORDER BY at, event_id LIMIT $3",
                params![at, id, limit],
            )
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|row| (row.at, row.event_id, row.data.0))
        .collect())
}

/// What the reports know of an order.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct OrderFacts {
    pub merchant_id: Uuid,
    pub currency: String,
    pub total: i64,
    pub placed_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub ready_at: Option<OffsetDateTime>,
    pub picked_up_at: Option<OffsetDateTime>,
}

pub async fn placed(
    tx: &mut Tx,
    order_id: Uuid,
    merchant_id: Uuid,
    currency: &str,
    total: i64,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO order_facts (order_id, merchant_id, currency, total, placed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING",
        params![order_id, merchant_id, currency, total, at],
    )
    .await
    .map(drop)
}

/// Records when the order reached a step that later timings start from. False when it
/// had been recorded before (nothing is written).
pub async fn reached(
    tx: &mut Tx,
    order_id: Uuid,
    step: Step,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let column = match step {
        Step::Accepted => "accepted_at",
        Step::Ready => "ready_at",
        Step::PickedUp => "picked_up_at",
    };
    let changed = tx
        .execute(
            &format!(
                "UPDATE order_facts SET {column} = $2 WHERE order_id = $1 AND {column} IS NULL"
            ),
            params![order_id, at],
        )
        .await?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Accepted,
    Ready,
    PickedUp,
}

pub async fn order(tx: &mut Tx, order_id: Uuid) -> Result<Option<OrderFacts>, Error> {
    tx.fetch_optional(
        "SELECT merchant_id, currency, total, placed_at, accepted_at, ready_at, picked_up_at
         FROM order_facts WHERE order_id = $1",
        params![order_id],
    )
    .await
}

/// The rows each merchant's (and the platform's) hour is counted in: every order of a
/// merchant adds to its hour and to the platform's, and concurrent consumer transactions
/// adding to one row would queue on its lock until each commits. The reports sum them.
const HOURLY_SHARDS: u64 = 8;

/// Adds `counts` to the counters of `merchant` (its id, or [`PLATFORM`]) for the hour
/// starting at `hour`, in the hour's shard the transaction drew: a batch's events all add to
/// the same rows, whatever their number.
pub async fn add(
    tx: &mut Tx,
    merchant: Whose,
    hour: OffsetDateTime,
    currency: &str,
    counts: &Counts,
) -> Result<(), Error> {
    let shard = tx.shard(HOURLY_SHARDS);
    tx.execute(
        "INSERT INTO hourly (merchant_id, hour, currency, orders, from_cart, basket_total,
                             captured, refunded, completed, cancelled, rejected, carts,
                             completed_total, shard)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (merchant_id, hour, currency, shard) DO UPDATE SET
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
        params![
            merchant,
            hour,
            currency,
            counts.orders,
            counts.from_cart,
            counts.basket_total,
            counts.captured,
            counts.refunded,
            counts.completed,
            counts.cancelled,
            counts.rejected,
            counts.carts,
            counts.completed_total,
            shard,
        ],
    )
    .await
    .map(drop)
}

/// One bucket's counters as summed.
#[derive(FromRow)]
struct BucketRow {
    start: OffsetDateTime,
    currency: String,
    carts: i64,
    orders: i64,
    from_cart: i64,
    basket_total: i64,
    captured: i64,
    refunded: i64,
    completed: i64,
    completed_total: i64,
    cancelled: i64,
    rejected: i64,
}

impl From<BucketRow> for Bucket {
    fn from(row: BucketRow) -> Self {
        Bucket {
            start: row.start,
            currency: row.currency,
            counts: Counts {
                carts: row.carts,
                orders: row.orders,
                from_cart: row.from_cart,
                basket_total: row.basket_total,
                captured: row.captured,
                refunded: row.refunded,
                completed: row.completed,
                completed_total: row.completed_total,
                cancelled: row.cancelled,
                rejected: row.rejected,
            },
        }
    }
}

/// The counters of `merchant` (or [`PLATFORM`]) over `period`, summed per bucket and
/// currency, oldest first; buckets with nothing are left out.
pub async fn buckets(db: &Db, merchant: Whose, period: &Period) -> Result<Vec<Bucket>, Error> {
    let rows: Vec<BucketRow> = db
        .fetch_all(
            &format!(
                "SELECT {} AS start, currency,
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
                bucket_start(db)
            ),
            &over_period(merchant, period),
        )
        .await?;
    Ok(rows.into_iter().map(Bucket::from).collect())
}

/// Counts one duration of `timing` in `bin` for `merchant` (or [`PLATFORM`]).
pub async fn add_timing(
    tx: &mut Tx,
    merchant: Whose,
    hour: OffsetDateTime,
    timing: Timing,
    bin: i64,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO timings (merchant_id, hour, kind, bin, count) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (merchant_id, hour, kind, bin) DO UPDATE SET count = timings.count + 1",
        params![merchant, hour, timing, bin],
    )
    .await
    .map(drop)
}

/// Counts one order that ended as `outcome` (`cancelled` or `rejected`) for `cause`.
pub async fn add_cause(
    tx: &mut Tx,
    merchant: Whose,
    hour: OffsetDateTime,
    outcome: &str,
    cause: &str,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO causes (merchant_id, hour, outcome, cause, count) VALUES ($1, $2, $3, $4, 1)
         ON CONFLICT (merchant_id, hour, outcome, cause) DO UPDATE SET count = causes.count + 1",
        params![merchant, hour, outcome, cause],
    )
    .await
    .map(drop)
}

/// Durations of `merchant` (or [`PLATFORM`]) over `period`: per bucket start, kind and
/// bin, the count.
pub async fn timings(
    db: &Db,
    merchant: Whose,
    period: &Period,
) -> Result<Vec<(OffsetDateTime, String, i64, i64)>, Error> {
    db.fetch_all(
        &format!(
            "SELECT {} AS start, kind, bin, CAST(SUM(count) AS BIGINT) AS count
         FROM timings WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            bucket_start(db)
        ),
        &over_period(merchant, period),
    )
    .await
}

/// Endings of `merchant` (or [`PLATFORM`]) over `period`: per bucket start, outcome and
/// cause, the count.
pub async fn causes(
    db: &Db,
    merchant: Whose,
    period: &Period,
) -> Result<Vec<(OffsetDateTime, String, String, i64)>, Error> {
    db.fetch_all(
        &format!(
            "SELECT {} AS start, outcome, cause, CAST(SUM(count) AS BIGINT) AS count
         FROM causes WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            bucket_start(db)
        ),
        &over_period(merchant, period),
    )
    .await
}

/// The start of the bucket, `$4` milliseconds long and counted from the epoch, that an
/// `hour` is in: integer arithmetic where SQLite keeps instants as epoch milliseconds,
/// `date_bin` on PostgreSQL's `timestamptz` (the same buckets, as instants).
fn bucket_start(db: &Db) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => "hour - (hour % $4)",
        Dialect::Postgres => "date_bin($4 * interval '1 millisecond', hour, timestamptz 'epoch')",
    }
}

/// What a query over a period reads: the merchant (or [`PLATFORM`]) as `$1`, the period
/// as `$2` and `$3`, a bucket's length in milliseconds as `$4` (see [`bucket_start`]).
fn over_period(merchant: Whose, period: &Period) -> Vec<Value> {
    let bucket = i64::try_from(period.bucket.length().whole_milliseconds()).unwrap_or(i64::MAX);
    params![merchant, period.from, period.to, bucket].to_vec()
}

/// Empties what the journal rebuilds.
pub async fn clear(tx: &mut Tx) -> Result<(), Error> {
    for table in ["hourly", "timings", "causes", "order_facts"] {
        tx.execute(&format!("DELETE FROM {table}"), params![])
            .await?;
    }
    Ok(())
}
