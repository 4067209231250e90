//! Reviews: a rating and a comment on a completed order by the customer who placed it,
//! once; comments moderated before they are public; the merchant's answer; merchant and
//! product averages.
//!
//! Publishes `review.published`; consumes `order.placed` and `order.completed`, so every
//! review is of a purchase it saw completed, or that the orders service says is, when its
//! customer writes before the events arrive. Asks the catalogue who staffs a merchant.

mod api;
mod app;
mod domain;
mod events;
mod store;

pub use api::router;
pub use app::{AppError, Reviews, ReviewsError};
pub use events::consume::subscriptions;

use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::orders::OrdersClient;
use ordo_kit::{Parts, Service};
use std::sync::Arc;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "reviews";

/// Reviews on their database, fed by the orders' events, asking `orders` about an order
/// whose events have not arrived, naming products from the `catalog`.
#[must_use]
pub fn service(catalog: Arc<dyn CatalogClient>, orders: Arc<dyn OrdersClient>) -> Service {
    Service::new(NAME, migrations(), api::paths, move |wiring| {
        let db = wiring.db().clone();
        let reviews = Arc::new(Reviews::new(
            db.clone(),
            wiring.outbox().clone(),
            catalog,
            orders,
        ));
        Ok(Parts::routes(router(reviews.clone())).subscriptions(subscriptions(reviews, db)))
    })
}

/// The reviews' migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_reviews"),
        ordo_db::migration!(2, "0002_native_types", per_dialect),
    ];
    MIGRATIONS
}
