//! Parcels and their carrier events.

use crate::domain::{CarrierEvent, Scan, Shipment, ShipmentStatus};
use ordo_db::{Db, Error, Executor, FromRow, StatusMove, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(ShipmentStatus, CarrierEvent);

const COLUMNS: &str = "id, order_id, merchant_id, customer_id, carrier, tracking_number, status,
    created_at, shipped_at, delivered_at";

/// A parcel as [`COLUMNS`] read it.
#[derive(FromRow)]
struct ShipmentRow {
    id: Uuid,
    order_id: Uuid,
    merchant_id: Uuid,
    customer_id: Uuid,
    carrier: String,
    tracking_number: String,
    status: ShipmentStatus,
    created_at: OffsetDateTime,
    shipped_at: Option<OffsetDateTime>,
    delivered_at: Option<OffsetDateTime>,
}

impl From<ShipmentRow> for Shipment {
    fn from(row: ShipmentRow) -> Self {
        Shipment {
            id: row.id,
            order_id: row.order_id,
            merchant_id: row.merchant_id,
            customer_id: row.customer_id,
            carrier: row.carrier,
            tracking_number: row.tracking_number,
            status: row.status,
            created_at: row.created_at,
            shipped_at: row.shipped_at,
            delivered_at: row.delivered_at,
        }
    }
}

/// Records a parcel; false when its order has one already (the event came again).
pub async fn insert(tx: &mut Tx, s: &Shipment) -> Result<bool, Error> {
    let changed = tx
        .execute(
            &format!(
                "INSERT INTO shipments ({COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8)
         ON CONFLICT (order_id) DO NOTHING"
            ),
            params![
                s.id,
                s.order_id,
                s.merchant_id,
                s.customer_id,
                s.carrier,
                s.tracking_number,
                s.status,
                s.created_at,
                s.shipped_at,
                s.delivered_at,
            ],
        )
        .await?;
    Ok(changed == 1)
}

pub async fn find(mut db: impl Executor, id: Uuid) -> Result<Option<Shipment>, Error> {
    let row: Option<ShipmentRow> = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM shipments WHERE id = $1"),
            params![id],
        )
        .await?;
    Ok(row.map(Shipment::from))
}

/// Moves the parcel from `from` to `to`; false when it had moved already.
pub async fn advance(
    tx: &mut Tx,
    id: Uuid,
    from: ShipmentStatus,
    to: ShipmentStatus,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let update = StatusMove::new("shipments", "id", id, from, to).set("updated_at", at);
    match to {
        ShipmentStatus::Shipped => update.set("shipped_at", at),
        ShipmentStatus::Delivered => update.set("delivered_at", at),
        ShipmentStatus::PendingShipment => update,
    }
    .run(tx)
    .await
}

/// Records a carrier event of the parcel; false when it was recorded before (a replay).
pub async fn remember_scan(tx: &mut Tx, shipment_id: Uuid, scan: &Scan) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "INSERT INTO shipment_events (id, shipment_id, type, location, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shipment_id, id) DO NOTHING",
            params![
                scan.id,
                shipment_id,
                scan.event,
                scan.location,
                scan.received_at
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// A carrier event as read.
#[derive(FromRow)]
struct ScanRow {
    id: String,
    r#type: CarrierEvent,
    location: Option<String>,
    received_at: OffsetDateTime,
}

impl From<ScanRow> for Scan {
    fn from(row: ScanRow) -> Self {
        Scan {
            id: row.id,
            event: row.r#type,
            location: row.location,
            received_at: row.received_at,
        }
    }
}

/// The parcel's carrier events, oldest first.
pub async fn scans(db: &Db, shipment_id: Uuid) -> Result<Vec<Scan>, Error> {
    let rows: Vec<ScanRow> = db
        .fetch_all(
            "SELECT id, type, location, received_at FROM shipment_events
         WHERE shipment_id = $1 ORDER BY received_at, id",
            params![shipment_id],
        )
        .await?;
    Ok(rows.into_iter().map(Scan::from).collect())
}
