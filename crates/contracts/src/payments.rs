//! What the payments service publishes (subjects are the order's id), and payments as
//! other services ask it: whether a customer may pay with a saved card at checkout.

use crate::{ClientFuture, Event};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "payments";

/// The order's payment was authorised: the money is held for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentAuthorized {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub amount: Money,
}

impl Event for PaymentAuthorized {
    const TYPE: &'static str = "payment.authorized";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The order's payment was refused: the order waits for its customer to try another card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    /// A stable code: `card_declined`, `insufficient_funds`, …
    pub reason: String,
}

impl Event for PaymentFailed {
    const TYPE: &'static str = "payment.failed";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// An authorisation was released without charging (the order ended before capture).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentVoided {
    pub order_id: Uuid,
    pub payment_id: Uuid,
}

impl Event for PaymentVoided {
    const TYPE: &'static str = "payment.voided";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// The authorised amount was charged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentCaptured {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub amount: Money,
}

impl Event for PaymentCaptured {
    const TYPE: &'static str = "payment.captured";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// Money went back to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub refund_id: Uuid,
    pub amount: Money,
    /// Everything captured has now been refunded.
    pub full: bool,
}

impl Event for PaymentRefunded {
    const TYPE: &'static str = "payment.refunded";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// Its part of an order's timeline: the provider requests made for it and their outcomes.
pub trait PaymentsClient: crate::timeline::OrderTimeline {
    /// Whether `method_id` is one of the customer's saved payment methods (not removed).
    fn owns_method(&self, customer_id: Uuid, method_id: Uuid) -> ClientFuture<'_, bool>;
}
