//! Parcels and their carrier events.

use super::parsed;
use crate::domain::{CarrierEvent, Scan, Shipment, ShipmentStatus};
use ordo_db::row::{instant, millis, opt_instant, uuid};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, order_id, merchant_id, customer_id, carrier, tracking_number, status,
    created_at, shipped_at, delivered_at";

fn shipment(row: &AnyRow) -> Result<Shipment, sqlx::Error> {
    Ok(Shipment {
        id: uuid(row, "id")?,
        order_id: uuid(row, "order_id")?,
        merchant_id: uuid(row, "merchant_id")?,
        customer_id: uuid(row, "customer_id")?,
        carrier: row.try_get("carrier")?,
        tracking_number: row.try_get("tracking_number")?,
        status: parsed(row, "status")?,
        created_at: instant(row, "created_at")?,
        shipped_at: opt_instant(row, "shipped_at")?,
        delivered_at: opt_instant(row, "delivered_at")?,
    })
}

/// Records a parcel; false when its order has one already (the event came again).
pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    s: &Shipment,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "INSERT INTO shipments ({COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8)
         ON CONFLICT (order_id) DO NOTHING"
    ))
    .bind(s.id.to_string())
    .bind(s.order_id.to_string())
    .bind(s.merchant_id.to_string())
    .bind(s.customer_id.to_string())
    .bind(&s.carrier)
    .bind(&s.tracking_number)
    .bind(s.status.as_str())
    .bind(millis(s.created_at))
    .bind(s.shipped_at.map(millis))
    .bind(s.delivered_at.map(millis))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
) -> Result<Option<Shipment>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM shipments WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(shipment)
        .transpose()
}

/// Moves the parcel from `from` to `to`; false when it had moved already.
pub async fn advance<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    from: ShipmentStatus,
    to: ShipmentStatus,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let step = match to {
        ShipmentStatus::Shipped => "shipped_at = $4, ",
        ShipmentStatus::Delivered => "delivered_at = $4, ",
        ShipmentStatus::PendingShipment => "",
    };
    let done = sqlx::query(&format!(
        "UPDATE shipments SET status = $3, {step}updated_at = $4 WHERE id = $1 AND status = $2"
    ))
    .bind(id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a carrier event of the parcel; false when it was recorded before (a replay).
pub async fn remember_scan<'c>(
    executor: impl Executor<'c, Database = Any>,
    shipment_id: Uuid,
    scan: &Scan,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO shipment_events (id, shipment_id, type, location, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shipment_id, id) DO NOTHING",
    )
    .bind(&scan.id)
    .bind(shipment_id.to_string())
    .bind(scan.event.as_str())
    .bind(scan.location.as_deref())
    .bind(millis(scan.received_at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The parcel's carrier events, oldest first.
pub async fn scans<'c>(
    executor: impl Executor<'c, Database = Any>,
    shipment_id: Uuid,
) -> Result<Vec<Scan>, sqlx::Error> {
    sqlx::query(
        "SELECT id, type, location, received_at FROM shipment_events
         WHERE shipment_id = $1 ORDER BY received_at, id",
    )
    .bind(shipment_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(Scan {
            id: row.try_get("id")?,
            event: parsed::<CarrierEvent>(row, "type")?,
            location: row.try_get("location")?,
            received_at: instant(row, "received_at")?,
        })
    })
    .collect()
}
