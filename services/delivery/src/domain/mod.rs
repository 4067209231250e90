//! Delivery's rules, without I/O: the delivery status and its one transition table, offers,
//! what a courier's move may be, the order in which couriers are asked, and parcels.

mod dispatch;
mod movement;
pub mod shipment;
mod status;

pub use dispatch::{Asked, Candidate, PastOffer, asked, rank};
pub use movement::{Fix, eta_secs, plausible};
pub use shipment::{CarrierEvent, Scan, Shipment, ShipmentStatus};
pub use status::{DeliveryStatus, OfferStatus, Trigger, next};

use ordo_kernel::Money;
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
    /// What its courier earns, fixed when it is opened.
    pub payout: Money,
    /// How far from the merchant couriers are asked, once an operator widened it (unset:
    /// the configured `max_radius_km`).
    pub search_radius_km: Option<f64>,
    /// When an operator last asked again: answers before then no longer count.
    pub redispatched_at: Option<OffsetDateTime>,
}

/// A courier's pay for a trip: `base` plus `per_km` for each kilometre, to the nearest
/// minor unit (minor units throughout; a trip off the map pays the base).
#[must_use]
pub fn payout(base: i64, per_km: i64, trip_km: f64) -> i64 {
    let distance = if trip_km.is_finite() {
        trip_km.clamp(0.0, 1_000.0)
    } else {
        0.0
    };
    let by_distance = (per_km as f64 * distance).round() as i64;
    base + by_distance
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

#[cfg(test)]
mod tests {
    use super::payout;

    #[test]
    fn a_courier_earns_the_base_and_each_kilometre() {
        assert_eq!(payout(300, 80, 2.5), 500);
        assert_eq!(payout(300, 80, 1.23), 398, "to the nearest minor unit");
        assert_eq!(payout(300, 80, 0.0), 300);
        for nowhere in [f64::NAN, f64::INFINITY, -3.0] {
            assert_eq!(payout(300, 80, nowhere), 300, "{nowhere}");
        }
        assert_eq!(
            payout(0, 100_000, 5_000.0),
            100_000_000,
            "a trip is at most 1 000 km"
        );
    }
}
