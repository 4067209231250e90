//! Payments: customers' saved cards (provider tokens only), the `PaymentProvider` trait and
//! its built-in `sandbox`, authorising each placed order once, voiding it when the order
//! ends before capture, capturing it when the order completes, operators' refunds
//! (reserved before the provider is asked) and the provider's signed webhooks. Orders asks
//! whether a card is the customer's through `ordo_contracts::payments::PaymentsClient`.
//!
//! Publishes `payment.authorized`, `payment.failed`, `payment.voided`, `payment.captured`,
//! `payment.refunded`; consumes `order.placed` (authorise), `order.cancelled` and
//! `order.rejected` (void), `order.completed` (capture).

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod provider;
pub mod store;

pub use api::router;
pub use app::{AppError, Payments};
pub use events::consume::subscriptions;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "payments";

/// The payments service's migrations (`migrations/`), one portable file each.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_payments"),
        ordo_db::migration!(2, "0002_pending_refunds"),
    ];
    MIGRATIONS
}
