//! What the delivery service publishes. Subjects are the order's id.

use crate::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "delivery";

/// A delivery was offered to couriers near the merchant, in the merchant's area (its H3
/// cell): each named courier may accept it until `expires_at` (RFC 3339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOffered {
    pub delivery_id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    /// The merchant's H3 cell, as hexadecimal.
    pub merchant_cell: String,
    pub courier_ids: Vec<Uuid>,
    pub expires_at: String,
}

impl Event for DeliveryOffered {
    const TYPE: &'static str = "delivery.offered";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// A courier took the delivery (by accepting an offer, or assigned by the platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAssigned {
    pub delivery_id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub courier_id: Uuid,
}

impl Event for DeliveryAssigned {
    const TYPE: &'static str = "delivery.assigned";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The courier handed the order to its customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCompleted {
    pub delivery_id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub courier_id: Uuid,
}

impl Event for DeliveryCompleted {
    const TYPE: &'static str = "delivery.completed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// Nobody took the delivery in the time allowed: operators must step in. The search goes
/// on meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryUnassigned {
    pub delivery_id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    /// Seconds since the search began.
    pub waited_secs: i64,
}

impl Event for DeliveryUnassigned {
    const TYPE: &'static str = "delivery.unassigned";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// Where a delivery order is on its way: what the order's tracking stream shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    /// `searching`, `offered`, `assigned`, `picked_up`, `delivered` or `cancelled`.
    pub status: String,
    pub courier_id: Option<uuid::Uuid>,
    /// The courier's name, once one has the delivery (when identity can say).
    pub courier_name: Option<String>,
    /// The courier's last position, while the courier has the delivery.
    pub position: Option<Position>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub located_at: time::OffsetDateTime,
    /// Seconds until the order reaches its customer, at the courier's assumed speed.
    pub eta_secs: i64,
    /// On the way to the merchant (not yet picked up): how far the courier still is from it.
    pub to_pickup: Option<ToPickup>,
}

/// A courier on the way to the merchant, as the merchant's staff see them coming.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ToPickup {
    pub distance_km: f64,
    /// Seconds until the courier reaches the merchant, at the assumed speed.
    pub eta_secs: i64,
    /// Close enough to be handed the order (within [`AT_PICKUP_KM`]).
    pub arrived: bool,
}

/// How near the merchant a courier counts as there: a shop's door, give or take a GPS fix.
pub const AT_PICKUP_KM: f64 = 0.15;

/// Delivery as other services ask it.
/// Its part of an order's timeline: the delivery opened, its offers, hands and steps.
pub trait DeliveryClient: crate::timeline::OrderTimeline {
    /// The delivery of an order; `None` when the order has none (not a delivery order, or
    /// not accepted yet).
    fn tracking(&self, order_id: uuid::Uuid) -> crate::ClientFuture<'_, Option<Tracking>>;

    /// Notified when what [`DeliveryClient::tracking`] says of the order may have changed:
    /// its delivery was opened, stepped or changed hands (once committed), or the courier
    /// carrying it reported a position (known from the last `tracking`). A follower holds it,
    /// enables its interest before it asks `tracking`, and asks again when woken. Changes
    /// made in another process notify once delivery's wake-ups are echoed to this one.
    fn changes(&self, order_id: uuid::Uuid) -> std::sync::Arc<tokio::sync::Notify>;
}

/// A parcel was handed to its carrier: the shipment waits for the carrier's first scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCreated {
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

impl Event for ShipmentCreated {
    const TYPE: &'static str = "shipment.created";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The carrier has the parcel on its way (its first `in_transit` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentShipped {
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

impl Event for ShipmentShipped {
    const TYPE: &'static str = "shipment.shipped";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The carrier delivered the parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentDelivered {
    pub shipment_id: Uuid,
    pub order_id: Uuid,
}

impl Event for ShipmentDelivered {
    const TYPE: &'static str = "shipment.delivered";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}
