//! Cart: each customer's cart of products and quantities of one merchant, priced from the
//! catalogue when read; what an order took from it leaves it once the order is paid.
//!
//! Publishes `cart.started` when an empty cart gets its first product; consumes
//! `order.paid`. The orders service reads carts through
//! `ordo_contracts::cart::CartClient`.

mod api;
mod app;
mod config;
mod domain;
mod events;
mod remote;
mod store;

pub use api::router;
pub use app::{AppError, Cart, CartError};
pub use config::{CartConfig, CartStore};
pub use events::consume::subscriptions;
pub use remote::client as remote_client;

use ordo_contracts::cart::CartClient;
use ordo_contracts::catalog::CatalogClient;
use ordo_kit::{Parts, Service};
use std::sync::Arc;
use store::redis_carts::RedisCarts;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "cart";

/// The cart on its database, or in the platform's Redis (`cart.store`), priced by the
/// `catalog`. Provides `CartClient`.
#[must_use]
pub fn service(
    config: CartConfig,
    catalog: Arc<dyn CatalogClient>,
) -> Service<Arc<dyn CartClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let db = wiring.db().clone();
            let mut cart = Cart::new(db.clone(), wiring.outbox().clone(), catalog);
            if config.store == CartStore::Redis {
                let redis = wiring.redis().cloned().ok_or_else(|| {
                    anyhow::anyhow!("cart.store = \"redis\" needs redis_url (ORDO_REDIS_URL)")
                })?;
                cart = cart.in_redis(RedisCarts::new(redis, config.ttl_secs));
            }
            let cart = Arc::new(cart);
            wiring.expose(cart.clone());
            Ok(Parts::routes(router(cart.clone()))
                .subscriptions(subscriptions(cart.clone(), db))
                .internal(api::internal::router(cart.clone()))
                .providing::<Arc<dyn CartClient>>(cart))
        },
        remote::client,
    )
}

/// The cart's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_cart"),
        ordo_db::migration!(2, "0002_one_merchant"),
        ordo_db::migration!(3, "0003_native_types", per_dialect),
    ];
    MIGRATIONS
}
