//! Orders: the checkout (idempotent by `Idempotency-Key`), the status table and the full
//! history of every order, cancellations, and the reaction to payments.
//!
//! Publishes `order.placed`, the status changes others follow (`order.cancelled`,
//! `order.rejected`, `order.accepted`, `order.ready`, `order.completed`) and
//! `checkout.abandoned`; consumes `reservation.committed` (the order is paid),
//! `reservation.lost` and `payment.failed` (`events`). Calls the catalogue (prices),
//! inventory (reservations), identity (saved addresses) and the cart through their client
//! traits.

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod store;

pub use api::router;
pub use app::{AppError, Clients, Orders, STALE_CLAIM};
pub use events::consume::subscriptions;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "orders";

/// The orders service's migrations (`migrations/`), one portable file each.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_orders"),
        ordo_db::migration!(2, "0002_checkout_claims"),
    ];
    MIGRATIONS
}
