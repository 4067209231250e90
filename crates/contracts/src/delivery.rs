//! What the delivery service publishes. Subjects are the order's id.

use crate::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}
