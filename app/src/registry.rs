//! The services this binary runs, in dependency order: each is made with the clients of
//! the services added before it, so the compiler checks the wiring. Adding a service is one
//! line here and its crate in `Cargo.toml`.

use crate::config::Config;
use crate::platform::Assembly;
use ordo_db::Db;
use ordo_http::Streams;
use ordo_payments::Sandbox;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Opened databases by service name.
pub type Databases = BTreeMap<&'static str, Db>;

/// Adds every service, each given its part of the configuration and the clients it calls.
/// The live streams of the process are counted together, whichever service serves them,
/// and end with their user's sessions, which identity ends.
///
/// # Errors
/// When a service's database, migrations or build fail.
pub async fn assemble(config: &Config, platform: &mut Assembly) -> anyhow::Result<()> {
    let streams = Streams::new(config.http.streams_per_user);
    let identity = platform
        .add(ordo_identity::service(
            config.identity.clone(),
            platform.keyring(),
            streams.clone(),
        ))
        .await?;
    let catalog = platform.add(ordo_catalog::service()).await?;
    let inventory = platform
        .add(ordo_inventory::service(
            config.inventory.clone(),
            catalog.clone(),
        ))
        .await?;
    let cart = platform
        .add(ordo_cart::service(config.cart.clone(), catalog.clone()))
        .await?;
    let payments = platform
        .add(ordo_payments::service(
            Arc::new(Sandbox),
            config.payments_webhook_secret.clone(),
        ))
        .await?;
    let delivery = platform
        .add(ordo_delivery::service(
            config.delivery.clone(),
            catalog.clone(),
            identity.clone(),
        ))
        .await?;
    let notifications = platform
        .add(ordo_notifications::service(
            config.smtp_url.clone(),
            config.smtp_from.clone(),
            config.sms.clone(),
            config.public_url(),
            streams.clone(),
            catalog.clone(),
            identity.clone(),
        ))
        .await?;
    let clients = ordo_orders::Clients {
        cart,
        catalog: catalog.clone(),
        inventory,
        identity,
        payments,
        delivery,
        notifications,
    };
    let orders = platform
        .add(ordo_orders::service(
            config.orders.clone(),
            streams,
            clients,
        ))
        .await?;
    platform
        .add(ordo_reviews::service(catalog.clone(), orders))
        .await?;
    platform.add(ordo_analytics::service(catalog)).await?;
    platform
        .add(ordo_search::service(config.search_dir()))
        .await?;
    Ok(())
}
