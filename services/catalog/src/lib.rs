//! Catalogue: merchants (location, opening hours, staff), their products, categories and
//! prices.
//!
//! Keeps the pictures of merchants and products, resized, and serves them.
//!
//! Publishes `merchant.created`, `merchant.updated`, `product.created`, `product.updated`,
//! `product.deleted` (payloads in `ordo_contracts::catalog`); consumes nothing yet.

mod api;
mod app;
mod domain;
mod events;
mod remote;
mod store;

pub use api::router;
pub use app::{AppError, Catalog, CatalogError};
pub use domain::picture::Owner;
pub use domain::{ImageType, NewMerchant, NewProduct, Opening};
pub use remote::client as remote_client;

use ordo_contracts::catalog::CatalogClient;
use ordo_kit::{Parts, Service};
use std::sync::Arc;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "catalog";

/// The wake-up topic on which the catalogue names a merchant or product that changed.
pub const CHANGED: &str = "catalog.changed";

/// The catalogue on its database. Provides `CatalogClient` (and shows `Catalog` to the
/// binary).
#[must_use]
pub fn service() -> Service<Arc<dyn CatalogClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        |wiring| {
            let catalog = Arc::new(Catalog::new(
                wiring.db().clone(),
                wiring.outbox().clone(),
                wiring.echoes().clone(),
            ));
            wiring.expose(catalog.clone());
            Ok(Parts::routes(router(catalog.clone()))
                .internal(api::internal::router(catalog.clone()))
                .providing::<Arc<dyn CatalogClient>>(catalog))
        },
        remote::client,
    )
}

/// The catalogue's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_catalog"),
        ordo_db::migration!(2, "0002_images"),
        ordo_db::migration!(3, "0003_native_types", per_dialect),
    ];
    MIGRATIONS
}
