use super::{DeliveryAddress, Fulfilment, PricedLine, Status};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub status: Status,
    pub fulfilment: Fulfilment,
    pub address: Option<DeliveryAddress>,
    pub payment_method_id: Option<Uuid>,
    pub currency: String,
    pub lines: Vec<PricedLine>,
    pub subtotal: i64,
    pub tip: i64,
    pub total: i64,
    pub notes: Option<String>,
    /// The courier carrying a delivery order, once one took it.
    pub courier_id: Option<Uuid>,
    /// The parcel a shipping order went out as, once shipped.
    pub shipment: Option<Shipment>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A parcel handed to a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

/// One transition of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: Uuid,
    pub order_id: Uuid,
    pub from: Option<Status>,
    pub to: Status,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub cause: String,
    pub at: OffsetDateTime,
}
