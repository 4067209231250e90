//! The cart as the orders service asks it at checkout.

use crate::ClientFuture;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLine {
    pub product_id: Uuid,
    pub quantity: i64,
}

pub trait CartClient: Send + Sync {
    /// The customer's cart lines, oldest first.
    fn lines(&self, customer_id: Uuid) -> ClientFuture<'_, Vec<CartLine>>;
}
