//! Parcels: a shipping order handed to its carrier becomes a shipment; the carrier's signed
//! events move it (each applied once); its customer, its merchant's staff and operators may
//! follow it.

use super::{AppError, Delivery, DeliveryError};
use crate::domain::shipment::next;
use crate::domain::{CarrierEvent, Scan, Shipment, ShipmentStatus};
use crate::events::publish;
use crate::store::shipments;
use ordo_bus::EventMeta;
use ordo_contracts::orders::OrderShipped;
use ordo_db::Tx;
use ordo_kernel::validation::text;
use ordo_kernel::{Caller, Role, Violations, signature};
use serde::Deserialize;
use uuid::Uuid;

/// A carrier's event as it sends it. It names its parcel, under the signature, so that an
/// event captured on its way to one parcel cannot be replayed to another.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CarrierReport {
    id: String,
    tracking_number: String,
    #[serde(rename = "type")]
    kind: String,
    location: Option<String>,
}

/// What a carrier event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Recorded; the parcel moved on, or stayed where it was (a later scan on the way).
    Recorded,
    /// Seen before: nothing changed.
    Replayed,
}

impl Delivery {
    /// Opens the shipment of a shipping order handed to its carrier (`order.shipped`).
    ///
    /// # Errors
    /// The database failing.
    pub async fn ship(
        &self,
        tx: &mut Tx,
        shipped: &OrderShipped,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let parcel = Shipment {
            id: shipped.shipment_id,
            order_id: shipped.order_id,
            merchant_id: shipped.merchant_id,
            customer_id: shipped.customer_id,
            carrier: shipped.carrier.clone(),
            tracking_number: shipped.tracking_number.clone(),
            status: ShipmentStatus::PendingShipment,
            created_at: ordo_kernel::time::now(),
            shipped_at: None,
            delivered_at: None,
        };
        if shipments::insert(&mut *tx, &parcel).await? {
            let event = publish::shipment_created(&parcel);
            publish::send(&self.outbox, tx, parcel.order_id, &event, meta).await?;
        }
        Ok(())
    }

    /// A parcel with its carrier events, for its customer, its merchant's staff and
    /// operators; `NotFound` for anyone else.
    ///
    /// # Errors
    /// `NotFound`; the catalogue failing.
    pub async fn shipment(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Shipment, Vec<Scan>), AppError> {
        let parcel = shipments::find(&self.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let allowed = match caller.role {
            Role::Admin => true,
            Role::Customer => parcel.customer_id == caller.user_id,
            Role::Merchant => self
                .catalog
                .merchant(parcel.merchant_id)
                .await?
                .is_some_and(|m| m.staff.contains(&caller.user_id)),
            Role::Courier => false,
        };
        if !allowed {
            return Err(AppError::NotFound);
        }
        let scans = shipments::scans(&self.db, id).await?;
        Ok((parcel, scans))
    }

    /// Verifies and applies a carrier's event for parcel `id`, received in the trace of
    /// `meta`: signed, fresh, naming the parcel by its tracking number, once per parcel and
    /// event id.
    ///
    /// # Errors
    /// `NotFound` when carrier events are not configured or the parcel is unknown;
    /// `BadSignature` (401); `Invalid` for a body that is not a carrier event, or one that
    /// names another parcel.
    pub async fn carrier_event(
        &self,
        id: Uuid,
        header: &str,
        body: &[u8],
        meta: &EventMeta,
    ) -> Result<ScanOutcome, AppError> {
        let secret = self
            .config
            .carrier_webhook_secret
            .as_ref()
            .ok_or(AppError::NotFound)?;
        let now = ordo_kernel::time::now();
        signature::verify(secret.expose().as_bytes(), header, body, now)
            .map_err(DeliveryError::BadSignature)?;
        let report: CarrierReport = serde_json::from_slice(body).map_err(|e| {
            let mut v = Violations::new();
            v.add("body", format!("not a carrier event: {e}"));
            AppError::Invalid(v)
        })?;
        let mut v = Violations::new();
        let event_id = v.check("id", text(&report.id, 1, 100));
        let tracking_number = v.check("tracking_number", text(&report.tracking_number, 1, 40));
        let event = v.check("type", report.kind.parse::<CarrierEvent>());
        let location = report
            .location
            .as_deref()
            .and_then(|l| v.check("location", text(l, 1, 120)));
        let (event_id, tracking_number, event) =
            v.into_result(|| (event_id, tracking_number, event))?;
        let (Some(event_id), Some(tracking_number), Some(event)) =
            (event_id, tracking_number, event)
        else {
            return Err(AppError::NotFound);
        };
        let mut tx = self.db.begin().await?;
        let parcel = shipments::find(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if tracking_number != parcel.tracking_number {
            let mut v = Violations::new();
            v.add("tracking_number", "is not this parcel's");
            return Err(AppError::Invalid(v));
        }
        let scan = Scan {
            id: event_id,
            event,
            location,
            received_at: now,
        };
        if !shipments::remember_scan(&mut tx, id, &scan).await? {
            return Ok(ScanOutcome::Replayed);
        }
        if let Some(to) = next(parcel.status, event)
            && shipments::advance(&mut tx, id, parcel.status, to, now).await?
        {
            let order_id = parcel.order_id;
            match to {
                ShipmentStatus::Shipped => {
                    let event = publish::shipment_shipped(&parcel);
                    publish::send(&self.outbox, &mut tx, order_id, &event, meta).await?;
                }
                ShipmentStatus::Delivered => {
                    let event = publish::shipment_delivered(&parcel);
                    publish::send(&self.outbox, &mut tx, order_id, &event, meta).await?;
                }
                ShipmentStatus::PendingShipment => {}
            }
        }
        self.outbox.commit(tx).await?;
        Ok(ScanOutcome::Recorded)
    }
}
