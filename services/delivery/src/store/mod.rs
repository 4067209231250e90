//! Delivery's SQL. A delivery changes only by conditional updates on its status (the first
//! courier to accept wins by one), and a courier carries one delivery at a time
//! (`deliveries_one_per_courier`).

pub mod fleet;
pub mod shipments;
pub mod timeline;

use crate::app::fleet::Courier;
use crate::domain::{Delivery, DeliveryStatus, Fix, Offer, OfferStatus, PastOffer, Stop};
use ordo_db::row::{instant, millis, opt_instant, opt_uuid, uuid};
use ordo_kernel::Money;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const DELIVERY_COLUMNS: &str = "id, order_id, merchant_id, customer_id, status, courier_id,
    pickup_name, pickup_address, pickup_lat, pickup_lon, pickup_cell,
    drop_off_name, drop_off_address, drop_off_lat, drop_off_lon,
    searching_since, escalated_at, assigned_at, picked_up_at, delivered_at, created_at,
    payout_amount, payout_currency, search_radius_km, redispatched_at";

/// A column holding one of a domain enum's names.
fn parsed<T: std::str::FromStr<Err = String>>(
    row: &AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|error: String| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: error.into(),
        })
}

fn delivery(row: &AnyRow) -> Result<Delivery, sqlx::Error> {
    Ok(Delivery {
        id: uuid(row, "id")?,
        order_id: uuid(row, "order_id")?,
        merchant_id: uuid(row, "merchant_id")?,
        customer_id: uuid(row, "customer_id")?,
        status: parsed(row, "status")?,
        courier_id: opt_uuid(row, "courier_id")?,
        pickup: Stop {
            name: row.try_get("pickup_name")?,
            address: row.try_get("pickup_address")?,
            lat: row.try_get("pickup_lat")?,
            lon: row.try_get("pickup_lon")?,
        },
        pickup_cell: row.try_get("pickup_cell")?,
        drop_off: Stop {
            name: row.try_get("drop_off_name")?,
            address: row.try_get("drop_off_address")?,
            lat: row.try_get("drop_off_lat")?,
            lon: row.try_get("drop_off_lon")?,
        },
        searching_since: instant(row, "searching_since")?,
        escalated_at: opt_instant(row, "escalated_at")?,
        assigned_at: opt_instant(row, "assigned_at")?,
        picked_up_at: opt_instant(row, "picked_up_at")?,
        delivered_at: opt_instant(row, "delivered_at")?,
        created_at: instant(row, "created_at")?,
        payout: Money {
            amount: row.try_get("payout_amount")?,
            currency: row.try_get("payout_currency")?,
        },
        search_radius_km: row.try_get("search_radius_km")?,
        redispatched_at: opt_instant(row, "redispatched_at")?,
    })
}

/// Records a delivery, opened in the trace of `traceparent`; false when the order has one
/// already (the event came again).
pub async fn insert_delivery<'c>(
    executor: impl Executor<'c, Database = Any>,
    d: &Delivery,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "INSERT INTO deliveries ({DELIVERY_COLUMNS}, updated_at, opened_traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, NULL, NULL, $21, $24)
         ON CONFLICT (order_id) DO NOTHING"
    ))
    .bind(d.id.to_string())
    .bind(d.order_id.to_string())
    .bind(d.merchant_id.to_string())
    .bind(d.customer_id.to_string())
    .bind(d.status.as_str())
    .bind(d.courier_id.map(|c| c.to_string()))
    .bind(&d.pickup.name)
    .bind(&d.pickup.address)
    .bind(d.pickup.lat)
    .bind(d.pickup.lon)
    .bind(&d.pickup_cell)
    .bind(&d.drop_off.name)
    .bind(&d.drop_off.address)
    .bind(d.drop_off.lat)
    .bind(d.drop_off.lon)
    .bind(millis(d.searching_since))
    .bind(d.escalated_at.map(millis))
    .bind(d.assigned_at.map(millis))
    .bind(d.picked_up_at.map(millis))
    .bind(d.delivered_at.map(millis))
    .bind(millis(d.created_at))
    .bind(d.payout.amount)
    .bind(&d.payout.currency)
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delivery_by_id<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
) -> Result<Option<Delivery>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(delivery)
    .transpose()
}

pub async fn delivery_for_order<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<Delivery>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE order_id = $1"
    ))
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(delivery)
    .transpose()
}

/// A courier's deliveries, newest first, after `before` (an id) when paging.
pub async fn deliveries_of<'c>(
    executor: impl Executor<'c, Database = Any>,
    courier_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries
         WHERE courier_id = $1 AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(courier_id.to_string())
    .bind(before.map(|b| b.to_string()))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(delivery)
    .collect()
}

/// The deliveries not yet ended (searching, offered, assigned or picked up), newest first.
pub async fn open_deliveries<'c>(
    executor: impl Executor<'c, Database = Any>,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries
         WHERE status IN ('searching', 'offered', 'assigned', 'picked_up')
         ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(delivery)
    .collect()
}

/// The deliveries still waiting for a courier, longest waiting first, each with how many
/// of its offers are open.
pub async fn waiting<'c>(
    executor: impl Executor<'c, Database = Any>,
    limit: i64,
) -> Result<Vec<(Delivery, i64)>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS},
                (SELECT COUNT(*) FROM offers o
                 WHERE o.delivery_id = deliveries.id AND o.status = 'open') AS open_offers
         FROM deliveries
         WHERE status IN ('searching', 'offered')
         ORDER BY searching_since LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| Ok((delivery(row)?, row.try_get("open_offers")?)))
    .collect()
}

/// Since when the delivery waiting longest for a courier has searched; `None` when none
/// waits.
///
/// # Errors
/// The database failing.
pub async fn oldest_waiting<'c>(
    executor: impl Executor<'c, Database = Any>,
) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    let found = sqlx::query(
        "SELECT MIN(searching_since) AS oldest FROM deliveries
         WHERE status IN ('searching', 'offered')",
    )
    .fetch_one(executor)
    .await?;
    opt_instant(&found, "oldest")
}

/// Moves the delivery from one of `from` to `to`, with its courier and the time and trace
/// of the step, and answers it as it now is; `None` when it was no longer in any of `from`
/// (someone else moved it first).
pub async fn move_delivery<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    from: &[DeliveryStatus],
    to: DeliveryStatus,
    courier_id: Option<Uuid>,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<Option<Delivery>, sqlx::Error> {
    let step = match to {
        DeliveryStatus::Assigned => "assigned_at = $4, assigned_traceparent = $5, ",
        DeliveryStatus::PickedUp => "picked_up_at = $4, picked_up_traceparent = $5, ",
        DeliveryStatus::Delivered => "delivered_at = $4, delivered_traceparent = $5, ",
        // The search's start stays: escalation counts from it.
        DeliveryStatus::Searching | DeliveryStatus::Offered | DeliveryStatus::Cancelled => "",
    };
    let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let sql = format!(
        "UPDATE deliveries
         SET status = $2, courier_id = COALESCE($3, courier_id), {step}updated_at = $4
         WHERE id = $1 AND status IN ({})
         RETURNING {DELIVERY_COLUMNS}",
        from.join(", ")
    );
    let query = sqlx::query(&sql)
        .bind(id.to_string())
        .bind(to.as_str())
        .bind(courier_id.map(|c| c.to_string()))
        .bind(millis(at));
    // A step without a time of its own keeps no trace either: PostgreSQL refuses a
    // parameter the statement does not use.
    let query = if step.is_empty() {
        query
    } else {
        query.bind(traceparent)
    };
    query
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(delivery)
        .transpose()
}

/// Marks the delivery escalated, in the trace of `traceparent`; false when it was already.
pub async fn escalate<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE deliveries SET escalated_at = $2, updated_at = $2, escalated_traceparent = $3
         WHERE id = $1 AND escalated_at IS NULL AND status IN ('searching', 'offered')",
    )
    .bind(id.to_string())
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

const OFFER_COLUMNS: &str =
    "id, delivery_id, courier_id, status, distance_km, created_at, expires_at";

fn offer(row: &AnyRow) -> Result<Offer, sqlx::Error> {
    Ok(Offer {
        id: uuid(row, "id")?,
        delivery_id: uuid(row, "delivery_id")?,
        courier_id: uuid(row, "courier_id")?,
        status: parsed(row, "status")?,
        distance_km: row.try_get("distance_km")?,
        created_at: instant(row, "created_at")?,
        expires_at: instant(row, "expires_at")?,
    })
}

/// Records an offer made in the trace of `traceparent`.
pub async fn insert_offer<'c>(
    executor: impl Executor<'c, Database = Any>,
    o: &Offer,
    traceparent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO offers ({OFFER_COLUMNS}, made_traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(o.id.to_string())
    .bind(o.delivery_id.to_string())
    .bind(o.courier_id.to_string())
    .bind(o.status.as_str())
    .bind(o.distance_km)
    .bind(millis(o.created_at))
    .bind(millis(o.expires_at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn offer_by_id<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
) -> Result<Option<Offer>, sqlx::Error> {
    sqlx::query(&format!("SELECT {OFFER_COLUMNS} FROM offers WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(offer)
        .transpose()
}

/// Every offer the delivery made, for dispatch to weigh who may be asked (see
/// [`crate::domain::asked`]).
pub async fn past_offers<'c>(
    executor: impl Executor<'c, Database = Any>,
    delivery_id: Uuid,
) -> Result<Vec<PastOffer>, sqlx::Error> {
    sqlx::query(
        "SELECT courier_id, status, created_at, answered_at FROM offers WHERE delivery_id = $1",
    )
    .bind(delivery_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(PastOffer {
            courier_id: uuid(row, "courier_id")?,
            status: parsed(row, "status")?,
            created_at: instant(row, "created_at")?,
            ended_at: opt_instant(row, "answered_at")?,
        })
    })
    .collect()
}

/// An operator asks again: the delivery is offered within `radius_km` from now on, and
/// earlier answers no longer count; false when it has a courier or has ended.
pub async fn redispatch<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    radius_km: f64,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE deliveries
         SET search_radius_km = $2, redispatched_at = $3, searching_since = $3,
             escalated_at = NULL, updated_at = $3, redispatched_traceparent = $4
         WHERE id = $1 AND status IN ('searching', 'offered')",
    )
    .bind(id.to_string())
    .bind(radius_km)
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The courier's offers open at `now`, soonest to expire first, with their deliveries.
pub async fn open_offers_of<'c>(
    executor: impl Executor<'c, Database = Any>,
    courier_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<(Offer, Delivery)>, sqlx::Error> {
    let offer_columns: Vec<String> = OFFER_COLUMNS
        .split(", ")
        .map(|c| format!("o.{c} AS o_{c}"))
        .collect();
    let rows = sqlx::query(&format!(
        "SELECT {}, d.* FROM offers o JOIN deliveries d ON d.id = o.delivery_id
         WHERE o.courier_id = $1 AND o.status = 'open' AND o.expires_at > $2
         ORDER BY o.expires_at",
        offer_columns.join(", ")
    ))
    .bind(courier_id.to_string())
    .bind(millis(now))
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let offer = Offer {
                id: uuid(row, "o_id")?,
                delivery_id: uuid(row, "o_delivery_id")?,
                courier_id: uuid(row, "o_courier_id")?,
                status: parsed(row, "o_status")?,
                distance_km: row.try_get("o_distance_km")?,
                created_at: instant(row, "o_created_at")?,
                expires_at: instant(row, "o_expires_at")?,
            };
            Ok((offer, delivery(row)?))
        })
        .collect()
}

/// Answers an open offer, in the trace of `traceparent`; false when it was no longer open.
pub async fn answer_offer<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    to: OfferStatus,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE offers SET status = $2, answered_at = $3, answered_traceparent = $4
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id.to_string())
    .bind(to.as_str())
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Withdraws the delivery's offers still open, but the one to `except` (who took it):
/// someone took the delivery, or its order ended.
pub async fn withdraw_offers<'c>(
    executor: impl Executor<'c, Database = Any>,
    delivery_id: Uuid,
    except: Option<Uuid>,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE offers SET status = 'withdrawn', answered_at = $3, answered_traceparent = $4
         WHERE delivery_id = $1 AND ($2 IS NULL OR courier_id <> $2) AND status = 'open'",
    )
    .bind(delivery_id.to_string())
    .bind(except.map(|c| c.to_string()))
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Withdraws the courier's open offers but `except`.
pub async fn withdraw_offers_to<'c>(
    executor: impl Executor<'c, Database = Any>,
    courier_id: Uuid,
    except: Option<Uuid>,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE offers SET status = 'withdrawn', answered_at = $3, answered_traceparent = $4
         WHERE courier_id = $1 AND ($2 IS NULL OR id <> $2) AND status = 'open'",
    )
    .bind(courier_id.to_string())
    .bind(except.map(|e| e.to_string()))
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Expires the offers due at `now`, in the sweep's trace; the deliveries they were for.
pub async fn expire_offers<'c>(
    executor: impl Executor<'c, Database = Any>,
    now: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query(
        "UPDATE offers SET status = 'expired', answered_at = $1, answered_traceparent = $2
         WHERE status = 'open' AND expires_at <= $1
         RETURNING delivery_id",
    )
    .bind(millis(now))
    .bind(traceparent)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| uuid(row, "delivery_id"))
    .collect()
}

/// How many of the delivery's offers are still open.
pub async fn open_offer_count<'c>(
    executor: impl Executor<'c, Database = Any>,
    delivery_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM offers WHERE delivery_id = $1 AND status = 'open'")
        .bind(delivery_id.to_string())
        .fetch_one(executor)
        .await?
        .try_get("n")
}

/// Every courier as last written, with whether it carries a delivery.
pub async fn couriers<'c>(
    executor: impl Executor<'c, Database = Any>,
) -> Result<Vec<(Uuid, Courier)>, sqlx::Error> {
    sqlx::query(
        "SELECT c.courier_id, c.online, c.lat, c.lon, c.located_at, c.idle_since,
                EXISTS (SELECT 1 FROM deliveries d WHERE d.courier_id = c.courier_id
                        AND d.status IN ('assigned', 'picked_up')) AS busy
         FROM couriers c",
    )
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let fix = match (
            row.try_get::<Option<f64>, _>("lat")?,
            row.try_get::<Option<f64>, _>("lon")?,
            opt_instant(row, "located_at")?,
        ) {
            (Some(lat), Some(lon), Some(at)) => Some(Fix { lat, lon, at }),
            _ => None,
        };
        Ok((
            uuid(row, "courier_id")?,
            Courier {
                online: row.try_get::<i64, _>("online")? == 1,
                fix,
                busy: row
                    .try_get::<bool, _>("busy")
                    .or_else(|_| row.try_get::<i64, _>("busy").map(|b| b == 1))?,
                idle_since: instant(row, "idle_since")?,
            },
        ))
    })
    .collect()
}

/// Writes a courier's availability (and its last position, when it has one).
pub async fn save_courier<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    courier: &Courier,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    // Two statements, not one with optional coordinates: sqlx's `Any` sends a missing
    // DOUBLE PRECISION as a REAL, and PostgreSQL would then refuse the statement it prepared
    // that way when the next courier comes with a position.
    let Some(fix) = courier.fix else {
        sqlx::query(
            "INSERT INTO couriers (courier_id, online, idle_since, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (courier_id) DO UPDATE SET online = excluded.online,
               idle_since = excluded.idle_since, updated_at = excluded.updated_at",
        )
        .bind(id.to_string())
        .bind(i64::from(courier.online))
        .bind(millis(courier.idle_since))
        .bind(millis(now))
        .execute(executor)
        .await?;
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO couriers (courier_id, online, lat, lon, located_at, idle_since, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (courier_id) DO UPDATE SET online = excluded.online,
           lat = excluded.lat, lon = excluded.lon, located_at = excluded.located_at,
           idle_since = excluded.idle_since, updated_at = excluded.updated_at",
    )
    .bind(id.to_string())
    .bind(i64::from(courier.online))
    .bind(fix.lat)
    .bind(fix.lon)
    .bind(millis(fix.at))
    .bind(millis(courier.idle_since))
    .bind(millis(now))
    .execute(executor)
    .await?;
    Ok(())
}

/// Writes a reported position, and the trace of the report.
pub async fn save_position<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    fix: &Fix,
    traceparent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE couriers SET lat = $2, lon = $3, located_at = $4, updated_at = $4,
           located_traceparent = $5
         WHERE courier_id = $1",
    )
    .bind(id.to_string())
    .bind(fix.lat)
    .bind(fix.lon)
    .bind(millis(fix.at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(())
}

/// The couriers carrying a delivery.
pub async fn busy_couriers<'c>(
    executor: impl Executor<'c, Database = Any>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query("SELECT courier_id FROM deliveries WHERE status IN ('assigned', 'picked_up')")
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| uuid(row, "courier_id"))
        .collect()
}
