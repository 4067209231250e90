//! The platform in one process: every service's database opened and migrated, and the
//! services wired. Serving it is `server`'s.

use crate::config::Config;
use crate::registry::{Databases, SERVICES};
use ordo_bus::{Bus, DeadLetters};
use ordo_cart::Cart;
use ordo_catalog::Catalog;
use ordo_db::Db;
use ordo_http::Verifier;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::Draining;
use ordo_identity::{Identity, Keyring};
use ordo_inventory::Inventory;
use ordo_notifications::{Mailer, Notifications};
use ordo_orders::{Clients, Orders};
use ordo_payments::Payments;
use ordo_payments::provider::Sandbox;
use std::sync::Arc;
use std::time::Duration;

/// Opens every service's database and applies its migrations.
///
/// # Errors
/// When a database cannot be reached or a migration fails.
pub async fn open_databases(config: &Config) -> anyhow::Result<Databases> {
    let options = config.db_options();
    let mut databases = Databases::new();
    for service in SERVICES {
        let db = Db::connect(&options, service.name).await?;
        db.migrate((service.migrations)()).await?;
        db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
            .await?;
        databases.insert(service.name, db);
    }
    Ok(databases)
}

/// The wired services and the gateway's shared state.
pub struct Platform {
    pub config: Config,
    pub databases: Databases,
    pub identity: Arc<Identity>,
    pub catalog: Arc<Catalog>,
    pub cart: Arc<Cart>,
    pub inventory: Arc<Inventory>,
    pub orders: Arc<Orders>,
    pub payments: Arc<Payments>,
    pub notifications: Arc<Notifications>,
    pub verifier: Arc<Verifier>,
    pub limits: Arc<RateLimits>,
    pub draining: Draining,
    pub readiness: crate::ops::Readiness,
    /// Every service's outbox and the consumers; started with the server.
    pub bus: Bus,
    pub dead_letters: DeadLetters,
}

impl Platform {
    /// # Errors
    /// When a database, a migration or the key file fails.
    pub async fn open(config: Config) -> anyhow::Result<Platform> {
        // Before anything records a metric, so that nothing recorded at start-up is lost.
        let _recorder = crate::ops::metrics_handle();
        let databases = open_databases(&config).await?;
        let identity = Arc::new(identity(&config, &databases)?);
        let verifier = Arc::new(Verifier::new(
            &config.identity.issuer,
            &config.identity.audience,
        ));
        verifier.replace_keys(&identity.keyring().jwks());
        let mut bus = Bus::new(config.bus.options(config.bus_url.as_ref()));
        for (name, db) in &databases {
            bus.outbox(name, db.clone());
        }
        let catalog = Arc::new(Catalog::new(
            databases[ordo_catalog::NAME].clone(),
            bus.outbox(ordo_catalog::NAME, databases[ordo_catalog::NAME].clone()),
        ));
        let inventory_db = databases[ordo_inventory::NAME].clone();
        let inventory_outbox = bus.outbox(ordo_inventory::NAME, inventory_db.clone());
        let inventory = Arc::new(Inventory::new(
            inventory_db.clone(),
            inventory_outbox.clone(),
            catalog.clone(),
            config.inventory.hold(),
        ));
        for subscription in
            ordo_inventory::subscriptions(inventory.clone(), inventory_db, &inventory_outbox)
        {
            bus.subscribe(subscription)?;
        }
        let cart_db = databases[ordo_cart::NAME].clone();
        let cart = Arc::new(Cart::new(cart_db.clone(), catalog.clone()));
        for subscription in ordo_cart::subscriptions(cart.clone(), cart_db) {
            bus.subscribe(subscription)?;
        }
        let payments_db = databases[ordo_payments::NAME].clone();
        let payments_outbox = bus.outbox(ordo_payments::NAME, payments_db.clone());
        let payments = Arc::new(Payments::new(
            payments_db.clone(),
            payments_outbox.clone(),
            Arc::new(Sandbox),
            config.payments_webhook_secret.clone(),
        ));
        for subscription in
            ordo_payments::subscriptions(payments.clone(), payments_db, &payments_outbox)
        {
            bus.subscribe(subscription)?;
        }
        let orders_db = databases[ordo_orders::NAME].clone();
        let orders_outbox = bus.outbox(ordo_orders::NAME, orders_db.clone());
        let clients = Clients {
            cart: cart.clone(),
            catalog: catalog.clone(),
            inventory: inventory.clone(),
            identity: identity.clone(),
            payments: payments.clone(),
        };
        let orders = Arc::new(Orders::new(
            orders_db.clone(),
            orders_outbox.clone(),
            clients,
        ));
        for subscription in ordo_orders::subscriptions(orders.clone(), orders_db, &orders_outbox) {
            bus.subscribe(subscription)?;
        }
        let notifications_db = databases[ordo_notifications::NAME].clone();
        let notifications_outbox = bus.outbox(ordo_notifications::NAME, notifications_db.clone());
        let mailer = match &config.smtp_url {
            Some(url) => Some(Arc::new(
                Mailer::new(url.expose(), &config.smtp_from).map_err(anyhow::Error::msg)?,
            )),
            None => None,
        };
        let notifications = Arc::new(Notifications::new(
            notifications_db.clone(),
            notifications_outbox.clone(),
            catalog.clone(),
            identity.clone(),
            mailer,
        ));
        for subscription in ordo_notifications::subscriptions(
            notifications.clone(),
            notifications_db,
            &notifications_outbox,
        ) {
            bus.subscribe(subscription)?;
        }
        let dead_letters = DeadLetters::new(databases.values().cloned().collect());
        let readiness = crate::ops::Readiness::new(
            databases.clone(),
            bus.options().health.clone(),
            Duration::from_secs(config.bus.unready_after_secs),
        );
        readiness.measure().await;
        Ok(Platform {
            readiness,
            catalog,
            cart,
            inventory,
            orders,
            payments,
            notifications,
            bus,
            dead_letters,
            limits: Arc::new(RateLimits::new(&config.rate_limit)),
            draining: Draining::default(),
            config,
            databases,
            identity,
            verifier,
        })
    }
}

fn identity(config: &Config, databases: &Databases) -> anyhow::Result<Identity> {
    let retain = Duration::from_secs(
        config.identity.access_token_ttl_secs + ordo_http::auth::LEEWAY_SECONDS,
    );
    let keyring = Keyring::open(&config.keys_file(), retain)?;
    let db = databases[ordo_identity::NAME].clone();
    Ok(Identity::new(
        db,
        Arc::new(keyring),
        config.identity.clone(),
    ))
}
