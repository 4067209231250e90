//! What the orders service publishes. Subjects are the order's id.

use crate::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The order was cancelled (by its customer, an operator, a failed payment or expiry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub reason: String,
}

impl Event for OrderCancelled {
    const TYPE: &'static str = "order.cancelled";
    const VERSION: u32 = 1;
}

/// The merchant refused the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRejected {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub reason: String,
}

impl Event for OrderRejected {
    const TYPE: &'static str = "order.rejected";
    const VERSION: u32 = 1;
}
