//! A parcel's statuses (seed 001: Pending Shipment -> Shipped -> Delivered) and what the
//! carrier's events do to them, as one table.

use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShipmentStatus {
    PendingShipment,
    Shipped,
    Delivered,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 3] = [
        ShipmentStatus::PendingShipment,
        ShipmentStatus::Shipped,
        ShipmentStatus::Delivered,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentStatus::PendingShipment => "pending_shipment",
            ShipmentStatus::Shipped => "shipped",
            ShipmentStatus::Delivered => "delivered",
        }
    }

    /// As people read it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            ShipmentStatus::PendingShipment => "Pending Shipment",
            ShipmentStatus::Shipped => "Shipped",
            ShipmentStatus::Delivered => "Delivered",
        }
    }
}

impl FromStr for ShipmentStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ShipmentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown shipment status {text}"))
    }
}

/// What a carrier reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarrierEvent {
    InTransit,
    Delivered,
}

impl CarrierEvent {
    pub const ALL: [CarrierEvent; 2] = [CarrierEvent::InTransit, CarrierEvent::Delivered];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CarrierEvent::InTransit => "in_transit",
            CarrierEvent::Delivered => "delivered",
        }
    }
}

impl FromStr for CarrierEvent {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CarrierEvent::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| "must be in_transit or delivered".to_owned())
    }
}

/// The status a parcel moves to on `event`, or `None` when it stays (a later scan on the
/// way, or anything after delivery).
#[must_use]
pub fn next(from: ShipmentStatus, event: CarrierEvent) -> Option<ShipmentStatus> {
    use CarrierEvent as E;
    use ShipmentStatus as S;
    match (from, event) {
        (S::PendingShipment, E::InTransit) => Some(S::Shipped),
        (S::PendingShipment | S::Shipped, E::Delivered) => Some(S::Delivered),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
    pub status: ShipmentStatus,
    pub created_at: OffsetDateTime,
    pub shipped_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
}

/// One carrier event as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub id: String,
    pub event: CarrierEvent,
    pub location: Option<String>,
    pub received_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use CarrierEvent as E;
    use ShipmentStatus as S;

    #[test]
    fn every_pair_is_as_specified() {
        let table = [
            (S::PendingShipment, E::InTransit, Some(S::Shipped)),
            (S::PendingShipment, E::Delivered, Some(S::Delivered)),
            (S::Shipped, E::InTransit, None),
            (S::Shipped, E::Delivered, Some(S::Delivered)),
            (S::Delivered, E::InTransit, None),
            (S::Delivered, E::Delivered, None),
        ];
        assert_eq!(table.len(), S::ALL.len() * E::ALL.len());
        for (from, event, to) in table {
            assert_eq!(next(from, event), to, "{from:?} {event:?}");
        }
    }

    #[test]
    fn names_round_trip_and_read_as_the_seed_says() {
        for status in S::ALL {
            assert_eq!(status.as_str().parse::<S>(), Ok(status));
        }
        for event in E::ALL {
            assert_eq!(event.as_str().parse::<E>(), Ok(event));
        }
        let labels: Vec<&str> = S::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["Pending Shipment", "Shipped", "Delivered"]);
    }
}
