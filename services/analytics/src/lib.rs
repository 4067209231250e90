//! Analytics: reports of orders, revenue (captured minus refunded), baskets and outcomes
//! per hour or day, for the platform and per merchant. A read model fed by order and
//! payment events; every fact it counted is journaled, so `ordo reports rebuild` makes the
//! counters again from the journal.
//!
//! Publishes nothing; consumes `order.*` and `payment.captured`/`payment.refunded`. Asks
//! the catalogue who staffs a merchant.

mod api;
mod app;
mod domain;
mod events;
mod store;

pub use api::router;
pub use app::{Analytics, AnalyticsError, AppError};
pub use domain::Fact;
pub use events::consume::subscriptions;

use ordo_contracts::catalog::CatalogClient;
use ordo_kit::{Parts, Service};
use std::sync::Arc;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "analytics";

/// Reports on their database, fed by the orders' and payments' events, naming merchants
/// from the `catalog`.
#[must_use]
pub fn service(catalog: Arc<dyn CatalogClient>) -> Service {
    Service::new(NAME, migrations(), api::paths, move |wiring| {
        let db = wiring.db().clone();
        let analytics = Arc::new(Analytics::new(db.clone(), catalog));
        wiring.expose(analytics.clone());
        Ok(Parts::routes(router(analytics.clone())).subscriptions(subscriptions(analytics, db)))
    })
}

/// The reports' migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_reports", per_dialect),
        ordo_db::migration!(2, "0002_completed_total", per_dialect),
        ordo_db::migration!(3, "0003_native_types", per_dialect),
        ordo_db::migration!(4, "0004_hourly_shards", per_dialect),
    ];
    MIGRATIONS
}
