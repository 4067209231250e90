//! Inventory as other services ask it: reserving an order's stock at checkout. Commits and
//! releases follow the payment and order events; what became of the stock of a paid order
//! is published (`reservation.committed`, `reservation.lost`).

use crate::{ClientFuture, Event};
use ordo_kernel::trace::TraceContext;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "inventory";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationLine {
    pub product_id: Uuid,
    pub quantity: i64,
}

/// A product there is not enough of, and how many are available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub product_id: Uuid,
    pub requested: i64,
    pub available: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "shortages", rename_all = "snake_case")]
pub enum Reservation {
    /// Everything is held for the order until it is paid, cancelled or the hold expires.
    Held,
    /// Nothing is held: these products are short.
    OutOfStock(Vec<Shortage>),
    /// Nothing is held: this order's checkout was given up before (abandoned or ended), so
    /// no stock may be held for it any more.
    GivenUp,
}

/// The order's payment was authorised and its stock left the shelf for it: the order is
/// paid. Published only after `payment.authorized`, so a paid order always has its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationCommitted {
    pub order_id: Uuid,
}

impl Event for ReservationCommitted {
    const TYPE: &'static str = "reservation.committed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The order's payment was authorised, but its hold had run out and the stock was sold
/// meanwhile: the order cannot be fulfilled and must end (its authorisation voided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationLost {
    pub order_id: Uuid,
    pub shortages: Vec<Shortage>,
}

impl Event for ReservationLost {
    const TYPE: &'static str = "reservation.lost";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// A product's available stock changed in a way shoppers see: its merchant counted the
/// shelf, a hold took the last units, or a release or a return freed some. Subjects are
/// the product's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChanged {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    /// On the shelf and not held for an order.
    pub available: i64,
}

impl Event for StockChanged {
    const TYPE: &'static str = "stock.changed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

/// Its part of an order's timeline: the order's reservation held, committed or released.
pub trait InventoryClient: crate::timeline::OrderTimeline {
    /// Holds every line for `order_id`, or nothing, in the caller's `trace` (the
    /// checkout's). Asking again for the same order gives the same answer and holds nothing
    /// more.
    fn reserve<'a>(
        &'a self,
        order_id: Uuid,
        lines: &'a [ReservationLine],
        trace: Option<TraceContext>,
    ) -> ClientFuture<'a, Reservation>;
}
