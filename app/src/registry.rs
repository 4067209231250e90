//! The services this binary runs, in dependency order: a service may use what the ones
//! above it provide. Adding a service is one line here and its crate in `Cargo.toml`.

use crate::config::Config;
use ordo_db::Db;
use ordo_http::Streams;
use ordo_kit::Service;
use ordo_payments::provider::Sandbox;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Opened databases by service name.
pub type Databases = BTreeMap<&'static str, Db>;

/// Every service, each given its part of the configuration. The live streams of the
/// process are counted together, whichever service serves them, and end with their user's
/// sessions, which identity ends.
#[must_use]
pub fn services(config: &Config) -> Vec<Service> {
    let streams = Streams::new(config.http.streams_per_user);
    vec![
        ordo_identity::service(config.identity.clone(), config.keys_file(), streams.clone()),
        ordo_catalog::service(),
        ordo_inventory::service(config.inventory.clone()),
        ordo_cart::service(),
        ordo_payments::service(Arc::new(Sandbox), config.payments_webhook_secret.clone()),
        ordo_delivery::service(config.delivery.clone()),
        ordo_notifications::service(
            config.smtp_url.clone(),
            config.smtp_from.clone(),
            config.sms.clone(),
            config.public_url(),
            streams.clone(),
        ),
        ordo_orders::service(config.orders.clone(), streams),
        ordo_reviews::service(),
        ordo_analytics::service(),
        ordo_search::service(config.search_dir()),
    ]
}
