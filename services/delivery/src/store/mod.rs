//! Delivery's SQL. A delivery changes only by conditional updates on its status (the first
//! courier to accept wins by one), and a courier carries one delivery at a time
//! (`deliveries_one_per_courier`).

pub mod fleet;
pub mod shipments;
pub mod timeline;

#[cfg(test)]
mod fleet_tests;
#[cfg(test)]
mod tests;

use crate::app::fleet::Courier;
use crate::domain::{Delivery, DeliveryStatus, Fix, Offer, OfferStatus, PastOffer, Stop};
use ordo_db::{Db, Error, Executor, FromRow, Row, StatusMove, Tx, params};
use ordo_kernel::Money;
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(DeliveryStatus, OfferStatus);

const DELIVERY_COLUMNS: &str = "id, order_id, merchant_id, customer_id, status, courier_id,
    pickup_name, pickup_address, pickup_lat, pickup_lon, pickup_cell,
    drop_off_name, drop_off_address, drop_off_lat, drop_off_lon,
    searching_since, escalated_at, assigned_at, picked_up_at, delivered_at, created_at,
    payout_amount, payout_currency, search_radius_km, redispatched_at";

/// A delivery as [`DELIVERY_COLUMNS`] read it.
#[derive(FromRow)]
struct DeliveryRow {
    id: Uuid,
    order_id: Uuid,
    merchant_id: Uuid,
    customer_id: Uuid,
    status: DeliveryStatus,
    courier_id: Option<Uuid>,
    pickup_name: String,
    pickup_address: String,
    pickup_lat: f64,
    pickup_lon: f64,
    pickup_cell: String,
    drop_off_name: String,
    drop_off_address: String,
    drop_off_lat: f64,
    drop_off_lon: f64,
    searching_since: OffsetDateTime,
    escalated_at: Option<OffsetDateTime>,
    assigned_at: Option<OffsetDateTime>,
    picked_up_at: Option<OffsetDateTime>,
    delivered_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    payout_amount: i64,
    payout_currency: String,
    search_radius_km: Option<f64>,
    redispatched_at: Option<OffsetDateTime>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Delivery {
            id: row.id,
            order_id: row.order_id,
            merchant_id: row.merchant_id,
            customer_id: row.customer_id,
            status: row.status,
            courier_id: row.courier_id,
            pickup: Stop {
                name: row.pickup_name,
                address: row.pickup_address,
                lat: row.pickup_lat,
                lon: row.pickup_lon,
            },
            pickup_cell: row.pickup_cell,
            drop_off: Stop {
                name: row.drop_off_name,
                address: row.drop_off_address,
                lat: row.drop_off_lat,
                lon: row.drop_off_lon,
            },
            searching_since: row.searching_since,
            escalated_at: row.escalated_at,
            assigned_at: row.assigned_at,
            picked_up_at: row.picked_up_at,
            delivered_at: row.delivered_at,
            created_at: row.created_at,
            payout: Money {
                amount: row.payout_amount,
                currency: row.payout_currency,
            },
            search_radius_km: row.search_radius_km,
            redispatched_at: row.redispatched_at,
        }
    }
}

/// Records a delivery, opened in the trace of `traceparent`; false when the order has one
/// already (the event came again).
pub async fn insert_delivery(
    tx: &mut Tx,
    d: &Delivery,
    traceparent: Option<&str>,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            &format!(
                "INSERT INTO deliveries ({DELIVERY_COLUMNS}, updated_at, opened_traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, NULL, NULL, $21, $24)
         ON CONFLICT (order_id) DO NOTHING"
            ),
            params![
                d.id,
                d.order_id,
                d.merchant_id,
                d.customer_id,
                d.status,
                d.courier_id,
                d.pickup.name,
                d.pickup.address,
                d.pickup.lat,
                d.pickup.lon,
                d.pickup_cell,
                d.drop_off.name,
                d.drop_off.address,
                d.drop_off.lat,
                d.drop_off.lon,
                d.searching_since,
                d.escalated_at,
                d.assigned_at,
                d.picked_up_at,
                d.delivered_at,
                d.created_at,
                d.payout.amount,
                d.payout.currency,
                traceparent,
            ],
        )
        .await?;
    Ok(changed == 1)
}

pub async fn delivery_by_id(mut db: impl Executor, id: Uuid) -> Result<Option<Delivery>, Error> {
    let row: Option<DeliveryRow> = db
        .fetch_optional(
            &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"),
            params![id],
        )
        .await?;
    Ok(row.map(Delivery::from))
}

pub async fn delivery_for_order(
    mut db: impl Executor,
    order_id: Uuid,
) -> Result<Option<Delivery>, Error> {
    let row: Option<DeliveryRow> = db
        .fetch_optional(
            &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE order_id = $1"),
            params![order_id],
        )
        .await?;
    Ok(row.map(Delivery::from))
}

/// A courier's deliveries, newest first, after `before` (an id) when paging.
pub async fn deliveries_of(
    db: &Db,
    courier_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, Error> {
    let rows: Vec<DeliveryRow> = db
        .fetch_all(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries
         WHERE courier_id = $1 AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
            ),
            params![courier_id, before, limit],
        )
        .await?;
    Ok(rows.into_iter().map(Delivery::from).collect())
}

/// The deliveries not yet ended (searching, offered, assigned or picked up), newest first.
pub async fn open_deliveries(db: &Db, limit: i64) -> Result<Vec<Delivery>, Error> {
    let rows: Vec<DeliveryRow> = db
        .fetch_all(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries
         WHERE status IN ('searching', 'offered', 'assigned', 'picked_up')
         ORDER BY id DESC LIMIT $1"
            ),
            params![limit],
        )
        .await?;
    Ok(rows.into_iter().map(Delivery::from).collect())
}

/// A waiting delivery, and how many of its offers are open (`open_offers`).
struct Waiting(Delivery, i64);

impl FromRow for Waiting {
    fn from_row(mut row: Row) -> Result<Self, Error> {
        let open_offers = row.get("open_offers")?;
        Ok(Waiting(DeliveryRow::from_row(row)?.into(), open_offers))
    }
}

/// The deliveries still waiting for a courier, longest waiting first, each with how many
/// of its offers are open.
pub async fn waiting(db: &Db, limit: i64) -> Result<Vec<(Delivery, i64)>, Error> {
    let rows: Vec<Waiting> = db
        .fetch_all(
            &format!(
                "SELECT {DELIVERY_COLUMNS},
                (SELECT COUNT(*) FROM offers o
                 WHERE o.delivery_id = deliveries.id AND o.status = 'open') AS open_offers
         FROM deliveries
         WHERE status IN ('searching', 'offered')
         ORDER BY searching_since LIMIT $1"
            ),
            params![limit],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|Waiting(delivery, open_offers)| (delivery, open_offers))
        .collect())
}

/// Since when the delivery waiting longest for a courier has searched; `None` when none
/// waits.
///
/// # Errors
/// The database failing.
pub async fn oldest_waiting(db: &Db) -> Result<Option<OffsetDateTime>, Error> {
    let (oldest,) = db
        .fetch_one(
            "SELECT MIN(searching_since) AS oldest FROM deliveries
         WHERE status IN ('searching', 'offered')",
            params![],
        )
        .await?;
    Ok(oldest)
}

/// Moves the delivery from one of `from` to `to`, with its courier and the time and trace
/// of the step, and answers it as it now is; `None` when it was no longer in any of `from`
/// (someone else moved it first).
pub async fn move_delivery(
    tx: &mut Tx,
    id: Uuid,
    from: &[DeliveryStatus],
    to: DeliveryStatus,
    courier_id: Option<Uuid>,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<Option<Delivery>, Error> {
    let Some((first, others)) = from.split_first() else {
        return Ok(None);
    };
    let mut update = others
        .iter()
        .fold(
            StatusMove::new("deliveries", "id", id, first, to),
            |update, status| update.or_from(status),
        )
        .set("updated_at", at);
    if let Some(courier_id) = courier_id {
        update = update.set("courier_id", courier_id);
    }
    // The search's start stays when the delivery searches again: escalation counts from it.
    let step = match to {
        DeliveryStatus::Assigned => Some(("assigned_at", "assigned_traceparent")),
        DeliveryStatus::PickedUp => Some(("picked_up_at", "picked_up_traceparent")),
        DeliveryStatus::Delivered => Some(("delivered_at", "delivered_traceparent")),
        DeliveryStatus::Searching | DeliveryStatus::Offered | DeliveryStatus::Cancelled => None,
    };
    if let Some((time, trace)) = step {
        update = update.set(time, at).set(trace, traceparent);
    }
    let row: Option<DeliveryRow> = update.returning(tx, DELIVERY_COLUMNS).await?;
    Ok(row.map(Delivery::from))
}

/// Marks the delivery escalated, in the trace of `traceparent`; false when it was already.
pub async fn escalate(
    tx: &mut Tx,
    id: Uuid,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE deliveries SET escalated_at = $2, updated_at = $2, escalated_traceparent = $3
         WHERE id = $1 AND escalated_at IS NULL AND status IN ('searching', 'offered')",
            params![id, at, traceparent],
        )
        .await?;
    Ok(changed == 1)
}

const OFFER_COLUMNS: &str =
    "id, delivery_id, courier_id, status, distance_km, created_at, expires_at";

/// An offer as [`OFFER_COLUMNS`] read it.
#[derive(FromRow)]
struct OfferRow {
    id: Uuid,
    delivery_id: Uuid,
    courier_id: Uuid,
    status: OfferStatus,
    distance_km: f64,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl From<OfferRow> for Offer {
    fn from(row: OfferRow) -> Self {
        Offer {
            id: row.id,
            delivery_id: row.delivery_id,
            courier_id: row.courier_id,
            status: row.status,
            distance_km: row.distance_km,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// Records an offer made in the trace of `traceparent`.
pub async fn insert_offer(tx: &mut Tx, o: &Offer, traceparent: Option<&str>) -> Result<(), Error> {
    tx.execute(
        &format!(
            "INSERT INTO offers ({OFFER_COLUMNS}, made_traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        params![
            o.id,
            o.delivery_id,
            o.courier_id,
            o.status,
            o.distance_km,
            o.created_at,
            o.expires_at,
            traceparent,
        ],
    )
    .await?;
    Ok(())
}

pub async fn offer_by_id(db: &Db, id: Uuid) -> Result<Option<Offer>, Error> {
    let row: Option<OfferRow> = db
        .fetch_optional(
            &format!("SELECT {OFFER_COLUMNS} FROM offers WHERE id = $1"),
            params![id],
        )
        .await?;
    Ok(row.map(Offer::from))
}

#[derive(FromRow)]
struct PastOfferRow {
    courier_id: Uuid,
    status: OfferStatus,
    created_at: OffsetDateTime,
    answered_at: Option<OffsetDateTime>,
}

impl From<PastOfferRow> for PastOffer {
    fn from(row: PastOfferRow) -> Self {
        PastOffer {
            courier_id: row.courier_id,
            status: row.status,
            created_at: row.created_at,
            ended_at: row.answered_at,
        }
    }
}

/// Every offer the delivery made, for dispatch to weigh who may be asked (see
/// [`crate::domain::asked`]).
pub async fn past_offers(
    mut db: impl Executor,
    delivery_id: Uuid,
) -> Result<Vec<PastOffer>, Error> {
    let rows: Vec<PastOfferRow> = db
        .fetch_all(
            "SELECT courier_id, status, created_at, answered_at FROM offers WHERE delivery_id = $1",
            params![delivery_id],
        )
        .await?;
    Ok(rows.into_iter().map(PastOffer::from).collect())
}

/// An operator asks again: the delivery is offered within `radius_km` from now on, and
/// earlier answers no longer count; false when it has a courier or has ended.
pub async fn redispatch(
    tx: &mut Tx,
    id: Uuid,
    radius_km: f64,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE deliveries
         SET search_radius_km = $2, redispatched_at = $3, searching_since = $3,
             escalated_at = NULL, updated_at = $3, redispatched_traceparent = $4
         WHERE id = $1 AND status IN ('searching', 'offered')",
            params![id, radius_km, at, traceparent],
        )
        .await?;
    Ok(changed == 1)
}

/// An open offer with its delivery: the offer's columns prefixed `o_`, the delivery's as
/// they are.
struct OfferOfDelivery(Offer, Delivery);

impl FromRow for OfferOfDelivery {
    fn from_row(mut row: Row) -> Result<Self, Error> {
        let offer = Offer {
            id: row.get("o_id")?,
            delivery_id: row.get("o_delivery_id")?,
            courier_id: row.get("o_courier_id")?,
            status: row.get("o_status")?,
            distance_km: row.get("o_distance_km")?,
            created_at: row.get("o_created_at")?,
            expires_at: row.get("o_expires_at")?,
        };
        Ok(OfferOfDelivery(offer, DeliveryRow::from_row(row)?.into()))
    }
}

/// The courier's offers open at `now`, soonest to expire first, with their deliveries.
pub async fn open_offers_of(
    db: &Db,
    courier_id: Uuid,
    now: OffsetDateTime,
) -> Result<Vec<(Offer, Delivery)>, Error> {
    let offer_columns: Vec<String> = OFFER_COLUMNS
        .split(", ")
        .map(|c| format!("o.{c} AS o_{c}"))
        .collect();
    let rows: Vec<OfferOfDelivery> = db
        .fetch_all(
            &format!(
                "SELECT {}, d.* FROM offers o JOIN deliveries d ON d.id = o.delivery_id
         WHERE o.courier_id = $1 AND o.status = 'open' AND o.expires_at > $2
         ORDER BY o.expires_at",
                offer_columns.join(", ")
            ),
            params![courier_id, now],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|OfferOfDelivery(offer, delivery)| (offer, delivery))
        .collect())
}

/// Answers an open offer, in the trace of `traceparent`; false when it was no longer open.
pub async fn answer_offer(
    tx: &mut Tx,
    id: Uuid,
    to: OfferStatus,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, Error> {
    StatusMove::new("offers", "id", id, OfferStatus::Open, to)
        .set("answered_at", at)
        .set("answered_traceparent", traceparent)
        .run(tx)
        .await
}

/// Withdraws the delivery's offers still open, but the one to `except` (who took it):
/// someone took the delivery, or its order ended.
pub async fn withdraw_offers(
    tx: &mut Tx,
    delivery_id: Uuid,
    except: Option<Uuid>,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<u64, Error> {
    tx.execute(
        "UPDATE offers SET status = 'withdrawn', answered_at = $3, answered_traceparent = $4
         WHERE delivery_id = $1 AND ($2 IS NULL OR courier_id <> $2) AND status = 'open'",
        params![delivery_id, except, at, traceparent],
    )
    .await
}

/// Withdraws the courier's open offers but `except`.
pub async fn withdraw_offers_to(
    tx: &mut Tx,
    courier_id: Uuid,
    except: Option<Uuid>,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<u64, Error> {
    tx.execute(
        "UPDATE offers SET status = 'withdrawn', answered_at = $3, answered_traceparent = $4
         WHERE courier_id = $1 AND ($2 IS NULL OR id <> $2) AND status = 'open'",
        params![courier_id, except, at, traceparent],
    )
    .await
}

/// Expires the offers due at `now`, in the sweep's trace; the deliveries they were for.
pub async fn expire_offers(
    tx: &mut Tx,
    now: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<Vec<Uuid>, Error> {
    let rows: Vec<(Uuid,)> = tx
        .fetch_all(
            "UPDATE offers SET status = 'expired', answered_at = $1, answered_traceparent = $2
         WHERE status = 'open' AND expires_at <= $1
         RETURNING delivery_id",
            params![now, traceparent],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// How many of the delivery's offers are still open.
pub async fn open_offer_count(tx: &mut Tx, delivery_id: Uuid) -> Result<i64, Error> {
    let (n,) = tx
        .fetch_one(
            "SELECT COUNT(*) AS n FROM offers WHERE delivery_id = $1 AND status = 'open'",
            params![delivery_id],
        )
        .await?;
    Ok(n)
}

#[derive(FromRow)]
struct CourierRow {
    courier_id: Uuid,
    online: bool,
    lat: Option<f64>,
    lon: Option<f64>,
    located_at: Option<OffsetDateTime>,
    idle_since: OffsetDateTime,
    busy: bool,
}

impl From<CourierRow> for (Uuid, Courier) {
    fn from(row: CourierRow) -> Self {
        let fix = match (row.lat, row.lon, row.located_at) {
            (Some(lat), Some(lon), Some(at)) => Some(Fix { lat, lon, at }),
            _ => None,
        };
        (
            row.courier_id,
            Courier {
                online: row.online,
                fix,
                busy: row.busy,
                idle_since: row.idle_since,
            },
        )
    }
}

/// Every courier as last written, with whether it carries a delivery.
pub async fn couriers(db: &Db) -> Result<Vec<(Uuid, Courier)>, Error> {
    let rows: Vec<CourierRow> = db
        .fetch_all(
            "SELECT c.courier_id, c.online, c.lat, c.lon, c.located_at, c.idle_since,
                EXISTS (SELECT 1 FROM deliveries d WHERE d.courier_id = c.courier_id
                        AND d.status IN ('assigned', 'picked_up')) AS busy
         FROM couriers c",
            params![],
        )
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Writes a courier's availability (and its last position, when it has one).
pub async fn save_courier(
    tx: &mut Tx,
    id: Uuid,
    courier: &Courier,
    now: OffsetDateTime,
) -> Result<(), Error> {
    // Without a position, the one stored stays: a courier going online or off does not
    // forget where it was last seen.
    let Some(fix) = courier.fix else {
        tx.execute(
            "INSERT INTO couriers (courier_id, online, idle_since, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (courier_id) DO UPDATE SET online = excluded.online,
               idle_since = excluded.idle_since, updated_at = excluded.updated_at",
            params![id, courier.online, courier.idle_since, now],
        )
        .await?;
        return Ok(());
    };
    tx.execute(
        "INSERT INTO couriers (courier_id, online, lat, lon, located_at, idle_since, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (courier_id) DO UPDATE SET online = excluded.online,
           lat = excluded.lat, lon = excluded.lon, located_at = excluded.located_at,
           idle_since = excluded.idle_since, updated_at = excluded.updated_at",
        params![
            id,
            courier.online,
            fix.lat,
            fix.lon,
            fix.at,
            courier.idle_since,
            now
        ],
    )
    .await?;
    Ok(())
}

/// Writes a reported position, and the trace of the report.
pub async fn save_position(
    tx: &mut Tx,
    id: Uuid,
    fix: &Fix,
    traceparent: Option<&str>,
) -> Result<(), Error> {
    tx.execute(
        "UPDATE couriers SET lat = $2, lon = $3, located_at = $4, updated_at = $4,
           located_traceparent = $5
         WHERE courier_id = $1",
        params![id, fix.lat, fix.lon, fix.at, traceparent],
    )
    .await?;
    Ok(())
}

/// The couriers carrying a delivery.
pub async fn busy_couriers(db: &Db) -> Result<Vec<Uuid>, Error> {
    let rows: Vec<(Uuid,)> = db
        .fetch_all(
            "SELECT courier_id FROM deliveries WHERE status IN ('assigned', 'picked_up')",
            params![],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
