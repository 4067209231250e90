//! The platform in one process: every service's database opened and migrated, the
//! services wired, the gateway in front, background upkeep running.

use crate::config::Config;
use crate::gateway;
use crate::registry::SERVICES;
use anyhow::Context;
use ordo_bus::{Bus, DeadLetters, RunningBus};
use ordo_cart::Cart;
use ordo_catalog::Catalog;
use ordo_db::Db;
use ordo_http::Verifier;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::{Draining, ServeOptions};
use ordo_identity::{Identity, Keyring};
use ordo_inventory::Inventory;
use ordo_notifications::{Mailer, Notifications};
use ordo_orders::{Clients, Orders};
use ordo_payments::Payments;
use ordo_payments::provider::Sandbox;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Opened databases by service name.
pub type Databases = BTreeMap<&'static str, Db>;

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

    /// Serves on `listener` until `shutdown` resolves, then drains.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let bus = self.start_bus().await?;
        self.serve_started(bus, listener, shutdown).await
    }

    /// Starts relaying and consuming events; the platform keeps a fresh, unstarted bus.
    async fn start_bus(&mut self) -> anyhow::Result<RunningBus> {
        let idle = Bus::new(self.bus.options().clone());
        std::mem::replace(&mut self.bus, idle)
            .start()
            .await
            .context("starting the event bus")
    }

    async fn serve_started(
        self,
        bus: RunningBus,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let http = &self.config.http;
        let options = ServeOptions {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_secs),
            drain_delay: Duration::from_secs(http.drain_delay_secs),
            grace: Duration::from_secs(http.shutdown_grace_secs),
        };
        let upkeep = tokio::spawn(upkeep(
            self.identity.clone(),
            self.verifier.clone(),
            self.limits.clone(),
        ));
        let progress = self.bus.options().progress.clone();
        let (inventory, orders, payments) = (
            self.inventory.clone(),
            self.orders.clone(),
            self.payments.clone(),
        );
        let sweeps = [
            tokio::spawn(sweep(
                "expired stock holds released",
                Duration::from_secs(self.config.inventory.sweep_secs),
                progress.clone(),
                move |now| {
                    let inventory = inventory.clone();
                    async move { inventory.expire_holds(now).await }
                },
            )),
            tokio::spawn(sweep(
                "checkouts whose requests died given up",
                ordo_orders::STALE_CLAIM / 2,
                progress.clone(),
                move |now| {
                    let orders = orders.clone();
                    async move { orders.abandon_stale_checkouts(now).await }
                },
            )),
            tokio::spawn(sweep(
                "pending refunds made",
                Duration::from_secs(30),
                progress,
                move |now| {
                    let payments = payments.clone();
                    async move { payments.settle_pending_refunds(now).await }
                },
            )),
            tokio::spawn(self.readiness.clone().run()),
        ];
        let router = gateway::router(&self);
        let draining = self.draining.clone();
        let result = ordo_http::serve::serve(listener, router, options, draining, shutdown).await;
        bus.stop(options.grace).await;
        upkeep.abort();
        for task in sweeps {
            task.abort();
        }
        for db in self.databases.values() {
            db.close().await;
        }
        result.context("serving")
    }

    /// Binds `config.listen` and serves in the background; for tests and embedding.
    ///
    /// # Errors
    /// When opening or binding fails.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        let mut platform = Platform::open(config).await?;
        let databases = platform.databases.clone();
        let identity = platform.identity.clone();
        let progress = platform.bus.options().progress.clone();
        let readiness = platform.readiness.clone();
        // Running before this returns, so that callers see a working platform.
        let bus = platform.start_bus().await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(platform.serve_started(bus, listener, async {
            let _ = stopped.await;
        }));
        Ok(Running {
            address,
            databases,
            identity,
            progress,
            readiness,
            stop: Some(stop),
            task,
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

/// Runs `job` every `every` until aborted: a sweep that moves things on by itself (holds
/// that ran out, checkouts whose requests died, refunds left pending). When it did
/// something it says so on `progress`, as the bus does, so that whoever waits looks again.
async fn sweep<F, Fut, E>(what: &'static str, every: Duration, progress: Arc<Notify>, job: F)
where
    F: Fn(time::OffsetDateTime) -> Fut,
    Fut: std::future::Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match job(ordo_kernel::time::now()).await {
            Ok(0) => {}
            Ok(done) => {
                tracing::info!(done, "{what}");
                progress.notify_waiters();
            }
            Err(error) => tracing::warn!(%error, "sweep failed: {what}"),
        }
    }
}

/// Background upkeep: pick up key rotations, forget idle limiters, purge expired tokens.
async fn upkeep(identity: Arc<Identity>, verifier: Arc<Verifier>, limits: Arc<RateLimits>) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        match identity.keyring().reload_if_changed() {
            Ok(true) => {
                verifier.replace_keys(&identity.keyring().jwks());
                tracing::info!(kid = %identity.keyring().current_kid(), "signing keys reloaded");
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%error, "cannot reload the signing keys; keeping the current ones")
            }
        }
        if ticks.is_multiple_of(360) {
            limits.forget_idle();
            match identity.housekeeping().await {
                Ok(purged) => tracing::debug!(purged, "expired refresh tokens purged"),
                Err(error) => tracing::warn!(%error, "housekeeping failed"),
            }
        }
    }
}

/// A platform serving in the background.
pub struct Running {
    pub address: SocketAddr,
    pub databases: Databases,
    pub identity: Arc<Identity>,
    /// Notified as the event bus makes progress.
    pub progress: Arc<tokio::sync::Notify>,
    pub readiness: crate::ops::Readiness,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Shuts down gracefully and waits for it.
    ///
    /// # Errors
    /// When serving failed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("server task")?
    }
}
