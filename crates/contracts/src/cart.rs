//! The cart as the orders service asks it at checkout, and what it publishes.

use crate::{ClientFuture, Event};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "cart";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: Uuid,
    pub quantity: i64,
}

pub trait CartClient: Send + Sync {
    /// The customer's cart lines, oldest first.
    fn lines(&self, customer_id: Uuid) -> ClientFuture<'_, Vec<CartLine>>;
}

/// A customer put the first product into an empty cart: a cart that may become an order
/// (the reports' conversion). Subject: the customer's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartStarted {
    pub customer_id: Uuid,
    /// The merchant of that first product.
    pub merchant_id: Uuid,
    /// The currency of its price.
    pub currency: String,
}

impl Event for CartStarted {
    const TYPE: &'static str = "cart.started";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}
