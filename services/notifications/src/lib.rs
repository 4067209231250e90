//! Notifications: every user's inbox of what happens to their orders — order placed
//! (customer and the merchant's staff), payment failed, order cancelled or rejected, money
//! held released, refunds — read over `GET /notifications` and live over server-sent
//! events, and by email over SMTP when a server is configured (every attempt recorded,
//! failures retried through the bus).
//!
//! Publishes `email.requested` (to itself); consumes `order.placed`, `payment.failed`,
//! `order.cancelled`, `order.rejected`, `payment.refunded`, `payment.voided`,
//! `email.requested`.

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod mailer;
pub mod store;

pub use api::router;
pub use app::{AppError, Notifications};
pub use events::consume::subscriptions;
pub use mailer::Mailer;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "notifications";

/// Notifications' migrations (`migrations/`), one portable file each.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] =
        &[ordo_db::migration!(1, "0001_create_notifications")];
    MIGRATIONS
}
