//! Delivery's rules, without I/O: the delivery status and its one transition table, offers,
//! what a courier's move may be, the order in which couriers are asked, and parcels.

mod dispatch;
mod movement;
pub mod shipment;
mod status;

pub use dispatch::{Candidate, rank};
pub use movement::{Fix, eta_secs, plausible};
pub use shipment::{CarrierEvent, Scan, Shipment, ShipmentStatus};
pub use status::{DeliveryStatus, OfferStatus, Trigger, next};

use time::OffsetDateTime;
use uuid::Uuid;

/// A place on a delivery's way: where it is picked up, or where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// The merchant's or the customer's name.
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
}

/// One order's delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub status: DeliveryStatus,
    pub courier_id: Option<Uuid>,
    pub pickup: Stop,
    /// The merchant's H3 cell, the area the delivery is offered in.
    pub pickup_cell: String,
    pub drop_off: Stop,
    pub searching_since: OffsetDateTime,
    pub escalated_at: Option<OffsetDateTime>,
    pub assigned_at: Option<OffsetDateTime>,
    pub picked_up_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl Delivery {
    /// Kilometres from the merchant to the customer.
    #[must_use]
    pub fn distance_km(&self) -> f64 {
        ordo_kernel::geo::distance_km(
            (self.pickup.lat, self.pickup.lon),
            (self.drop_off.lat, self.drop_off.lon),
        )
    }
}

/// A delivery put to one courier, who may take it until it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub courier_id: Uuid,
    pub status: OfferStatus,
    /// From the courier to the merchant when it was made.
    pub distance_km: f64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}
