//! The orders service's use cases: placing an order (the checkout), reading orders, their
//! status and history, cancelling, and following payments — a declined one tried again
//! with another card until its window closes.

mod admin;
mod cancel;
mod client;
mod merchant;
mod payment;
mod place_order;
mod queries;
mod track;
mod transitions;

pub use admin::FoundOrder;
pub use merchant::MerchantAction;
pub use place_order::{ABANDON_AFTER, AddressChoice, ItemsSource, PlaceOrder, Placed, STALE_CLAIM};
pub use queries::OpenCount;
pub use track::Transitions;
pub(crate) use transitions::{Move, trace_id};

use ordo_bus::Outbox;
use ordo_contracts::cart::CartClient;
use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::delivery::DeliveryClient;
use ordo_contracts::identity::IdentityClient;
use ordo_contracts::inventory::InventoryClient;
use ordo_contracts::notifications::NotificationsClient;
use ordo_contracts::payments::PaymentsClient;
use ordo_db::Db;
use ordo_kit::Wakeups;
use std::sync::Arc;
use uuid::Uuid;

/// The services checkout talks to.
#[derive(Clone)]
pub struct Clients {
    pub cart: Arc<dyn CartClient>,
    pub catalog: Arc<dyn CatalogClient>,
    pub inventory: Arc<dyn InventoryClient>,
    pub identity: Arc<dyn IdentityClient>,
    pub payments: Arc<dyn PaymentsClient>,
    /// Where a delivery order's courier is, for its tracking stream.
    pub delivery: Arc<dyn DeliveryClient>,
    /// What was sent about an order, for its timeline (the others above tell theirs too).
    pub notifications: Arc<dyn NotificationsClient>,
}

pub struct Orders {
    db: Db,
    outbox: Outbox,
    clients: Clients,
    /// Wakes the streams following an order once its transitions have committed.
    followers: Arc<Wakeups>,
    /// How long a declined order waits for another card before it is cancelled.
    payment_retry: time::Duration,
}

impl std::fmt::Debug for Orders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orders")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// A product there is not enough of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short {
    pub product_id: Uuid,
    pub name: String,
    pub requested: i64,
    pub available: i64,
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error("out of stock")]
    OutOfStock(Vec<Short>),
    #[error("this Idempotency-Key was used with another request")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still being handled")]
    KeyInFlight,
    #[error("the checkout did not finish in time; it was given up")]
    TooSlow,
    #[error("the order is {0} and cannot be {1}")]
    IllegalTransition(&'static str, &'static str),
    /// The courier took the delivery, but the order has not heard so yet (an event away),
    /// or no courier has taken it.
    #[error("the order does not know its courier yet: hand it over once a courier has taken it")]
    CourierNotKnownYet,
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<OrdersError>;

impl Orders {
    /// Orders over its database, publishing through `outbox`; a declined order may be paid
    /// with another card for `payment_retry`.
    #[must_use]
    pub fn new(db: Db, outbox: Outbox, clients: Clients, payment_retry: time::Duration) -> Self {
        Orders {
            db,
            outbox,
            clients,
            followers: Arc::default(),
            payment_retry,
        }
    }
}
