//! Orders: the checkout (idempotent by `Idempotency-Key`), the status table and the full
//! history of every order, cancellations, and the reaction to payments.
//!
//! Publishes `order.placed`, `order.cancelled`; consumes `payment.authorized`,
//! `payment.failed` (`events`). Calls the catalogue (prices), inventory (reservations) and
//! identity (saved addresses) through their client traits.

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod store;

pub use api::router;
pub use app::{AppError, Clients, Orders};
pub use events::consume::subscriptions;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "orders";

/// The orders service's migrations, per dialect.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[ordo_db::migration!(1, "0001_create_orders")];
    MIGRATIONS
}
