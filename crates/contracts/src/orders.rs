//! What the orders service publishes. Subjects are the order's id.

use crate::Event;
use ordo_kernel::Money;
use ordo_kernel::PostalAddress;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "orders";

/// The order was cancelled (by its customer, an operator, a payment not made in time, or
/// stock lost).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub reason: String,
}

impl Event for OrderCancelled {
    const TYPE: &'static str = "order.cancelled";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// A checkout ended without an order (it failed after reserving, or its request died): the
/// stock held for `order_id` goes back and no order with that id will ever exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutAbandoned {
    pub order_id: Uuid,
}

impl Event for CheckoutAbandoned {
    const TYPE: &'static str = "checkout.abandoned";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
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
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Money,
}

/// A customer placed an order; its stock is held and its payment is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    /// `delivery`, `shipping` or `pickup`.
    pub fulfilment: String,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub payment_method_id: Option<Uuid>,
    /// The order was made from the customer's cart, which is emptied once it is paid
    /// (`order.paid`).
    #[serde(default)]
    pub from_cart: bool,
}

impl Event for OrderPlaced {
    const TYPE: &'static str = "order.placed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The order's payment was declined: the order waits in `payment_failed`, its stock held,
/// until `retry_until` for its customer to try another card (then it is cancelled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPaymentFailed {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    /// Why, in words for the customer (never the provider's code).
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub retry_until: time::OffsetDateTime,
}

impl Event for OrderPaymentFailed {
    const TYPE: &'static str = "order.payment_failed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The customer chose another card for a declined order: its payment is to be authorised
/// again. `attempt` counts the order's authorisations (the first is 1), so that each has
/// its own idempotency key at the provider and is made once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPaymentRetried {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub payment_method_id: Uuid,
    pub total: Money,
    pub attempt: i64,
}

impl Event for OrderPaymentRetried {
    const TYPE: &'static str = "order.payment_retried";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The order is paid: its payment is authorised and its stock committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPaid {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub lines: Vec<OrderLine>,
    /// The order was made from the customer's cart: what it held leaves the cart now.
    pub from_cart: bool,
}

impl Event for OrderPaid {
    const TYPE: &'static str = "order.paid";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The merchant accepted the order and will prepare it. A delivery order carries where
/// it goes, so that a courier can be found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAccepted {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    #[serde(default)]
    pub customer_id: Uuid,
    /// `delivery`, `shipping` or `pickup`.
    #[serde(default)]
    pub fulfilment: String,
    #[serde(default)]
    pub address: Option<PostalAddress>,
}

impl Event for OrderAccepted {
    const TYPE: &'static str = "order.accepted";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The order is ready to be picked up (by the customer or a courier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderReady {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
}

impl Event for OrderReady {
    const TYPE: &'static str = "order.ready";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The merchant handed a delivery order to its courier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPickedUp {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
}

impl Event for OrderPickedUp {
    const TYPE: &'static str = "order.picked_up";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The merchant handed a shipping order to a parcel carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShipped {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub shipment_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

impl Event for OrderShipped {
    const TYPE: &'static str = "order.shipped";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The order reached its customer: the payment is captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCompleted {
    pub order_id: Uuid,
    pub merchant_id: Uuid,
}

impl Event for OrderCompleted {
    const TYPE: &'static str = "order.completed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// An order as a service that follows purchases asks about it: whose it is, of which
/// merchant, which products, and whether it was completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    /// The products of its lines, in line order.
    pub product_ids: Vec<Uuid>,
    pub completed: bool,
}

/// The orders service as other services ask it: the authority on an order, for a service
/// whose copy from the bus has not caught up yet.
pub trait OrdersClient: Send + Sync {
    /// The order `order_id`, or `None` when there is no such order.
    fn purchase(&self, order_id: Uuid) -> crate::ClientFuture<'_, Option<Purchase>>;
}
