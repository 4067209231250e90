//! Inventory as other services ask it: reserving an order's stock at checkout. Commits and
//! releases follow the payment and order events.

use crate::ClientFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Everything is held for the order until it is paid, cancelled or the hold expires.
    Held,
    /// Nothing is held: these products are short.
    OutOfStock(Vec<Shortage>),
}

pub trait InventoryClient: Send + Sync {
    /// Holds every line for `order_id`, or nothing. Asking again for the same order gives
    /// the same answer and holds nothing more.
    fn reserve<'a>(
        &'a self,
        order_id: Uuid,
        lines: &'a [ReservationLine],
    ) -> ClientFuture<'a, Reservation>;
}
