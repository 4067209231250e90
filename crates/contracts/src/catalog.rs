//! What the catalogue publishes: merchants (with who works there) and products (with their
//! current price). Subjects are the merchant's or the product's id.

use crate::{ClientFuture, Event};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "catalog";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantSnapshot {
    pub merchant_id: Uuid,
    pub name: String,
    /// `restaurant` or `shop`.
    pub kind: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// When it is open; none given means always.
    #[serde(default)]
    pub opening_hours: Vec<OpeningHours>,
    /// Users who act for the merchant.
    pub staff: Vec<Uuid>,
}

/// One opening on one day, in the merchant's local time (merchants carry no time zone yet,
/// so the platform reads it as UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    /// `mon` … `sun`.
    pub day: String,
    /// `HH:MM`.
    pub open: String,
    /// `HH:MM`; earlier than `open` when it runs past midnight.
    pub close: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantCreated {
    pub merchant: MerchantSnapshot,
}

impl Event for MerchantCreated {
    const TYPE: &'static str = "merchant.created";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantUpdated {
    pub merchant: MerchantSnapshot,
}

impl Event for MerchantUpdated {
    const TYPE: &'static str = "merchant.updated";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub sku: Option<String>,
    pub tags: Vec<String>,
    /// Whether it can be ordered now.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductCreated {
    pub product: ProductSnapshot,
}

impl Event for ProductCreated {
    const TYPE: &'static str = "product.created";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductUpdated {
    pub product: ProductSnapshot,
}

impl Event for ProductUpdated {
    const TYPE: &'static str = "product.updated";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDeleted {
    pub product_id: Uuid,
    pub merchant_id: Uuid,
}

impl Event for ProductDeleted {
    const TYPE: &'static str = "product.deleted";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

/// The catalogue as other services ask it: prices at checkout, owners for authorisation.
pub trait CatalogClient: Send + Sync {
    /// The products with these ids that exist (deleted ones are absent), in no order.
    fn products<'a>(&'a self, ids: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>>;

    /// The merchant with its staff.
    fn merchant(&self, id: Uuid) -> ClientFuture<'_, Option<MerchantSnapshot>>;

    /// The merchants whose name contains `query` (whatever its case), newest first, at
    /// most `limit` (capped at [`crate::MAX_FOUND`]).
    fn find_merchants<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>>;
}
