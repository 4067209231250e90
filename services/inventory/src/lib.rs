//! Inventory: stock per product (a location column for later), and reservations: held for
//! an order at checkout, all or nothing; kept on `order.payment_failed` until the declined
//! order's window for another card closes; committed on `payment.authorized`; released on
//! `order.cancelled`, `order.rejected`, `checkout.abandoned`; expired when unpaid too long.
//!
//! Publishes `reservation.committed` (the order may be paid) and `reservation.lost` (its
//! hold ran out and the stock is gone); consumes the events above (`events::consume`).
//! Other services reserve through `ordo_contracts::inventory::InventoryClient`.

mod api;
mod app;
mod config;
mod domain;
mod events;
mod remote;
mod store;

pub use api::router;
pub use app::{AppError, Inventory, InventoryError};
pub use config::InventoryConfig;
pub use events::consume::subscriptions;
pub use remote::client as remote_client;

use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::inventory::InventoryClient;
use ordo_kit::{Parts, Service, Sweep};
use std::sync::Arc;
use std::time::Duration;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "inventory";

/// Inventory on its database, asking the `catalog` whose products it holds. Provides
/// `InventoryClient` (and shows `Inventory` to the binary); gives back expired holds every
/// `sweep_secs`.
#[must_use]
pub fn service(
    config: InventoryConfig,
    catalog: Arc<dyn CatalogClient>,
) -> Service<Arc<dyn InventoryClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let (db, outbox) = (wiring.db().clone(), wiring.outbox().clone());
            let inventory = Arc::new(Inventory::new(
                db.clone(),
                outbox.clone(),
                catalog,
                config.hold(),
            ));
            wiring.expose(inventory.clone());
            let expiry = Sweep::new(
                "expired stock holds released",
                Duration::from_secs(config.sweep_secs),
                &inventory,
                |inventory, now| async move { inventory.expire_holds(now).await },
            );
            Ok(Parts::routes(router(inventory.clone()))
                .subscriptions(subscriptions(inventory.clone(), db, &outbox))
                .sweep(expiry)
                .internal(api::internal::router(inventory.clone()))
                .providing::<Arc<dyn InventoryClient>>(inventory))
        },
        remote::client,
    )
}

/// Inventory's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_inventory"),
        ordo_db::migration!(2, "0002_reservation_traces"),
        ordo_db::migration!(3, "0003_native_types", per_dialect),
        ordo_db::migration!(4, "0004_stock_slots", per_dialect),
    ];
    MIGRATIONS
}
