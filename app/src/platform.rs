//! The platform in one process: the registry's services added one by one ([`Assembly`]),
//! each with its database opened and migrated, built with the clients of the services added
//! before it. Serving it is `server`'s.

use crate::config::Config;
use crate::ops::Readiness;
use crate::registry::{self, Databases};
use ordo_bus::{Bus, DeadLetters};
use ordo_db::Db;
use ordo_http::Verifier;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::Draining;
use ordo_identity::Identity;
use ordo_kit::{Built, Service, Shared, Sweep, Wiring};
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;

/// Opening a database that is down is tried again after this long, doubling up to the most.
const OPEN_FIRST_WAIT: Duration = Duration::from_millis(200);
const OPEN_LONGEST_WAIT: Duration = Duration::from_secs(10);

/// Opens a service's database and applies its migrations (and the bus's). A database that
/// cannot be reached yet (starting, behind a slow network, restarting) is waited for, with
/// backoff, however long it takes: a process restarted by its supervisor comes up on its
/// own once the database does.
///
/// # Errors
/// When the database refuses for another reason (a wrong password, a failed migration).
async fn open_database<P>(
    options: &ordo_db::DbOptions,
    service: &Service<P>,
) -> Result<Db, ordo_db::DbError> {
    let mut wait = OPEN_FIRST_WAIT;
    loop {
        match migrated(options, service).await {
            Ok(db) => return Ok(db),
            Err(error) if error.is_unavailable() => {
                tracing::warn!(service = service.name, %error, retry_in_ms = wait.as_millis(), "the database cannot be reached yet; waiting for it");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(OPEN_LONGEST_WAIT);
            }
            Err(error) => return Err(error),
        }
    }
}

async fn migrated<P>(
    options: &ordo_db::DbOptions,
    service: &Service<P>,
) -> Result<Db, ordo_db::DbError> {
    let db = Db::connect(options, service.name).await?;
    db.migrate(service.migrations).await?;
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await?;
    Ok(db)
}

/// The platform as the registry puts it together: each service added gets its database, an
/// outbox, and the clients it was made with; what it runs is collected for the server.
pub struct Assembly {
    options: ordo_db::DbOptions,
    databases: Databases,
    bus: Bus,
    shared: Shared,
    routes: OpenApiRouter,
    root_routes: OpenApiRouter,
    sweeps: Vec<Sweep>,
}

impl Assembly {
    fn new(config: &Config) -> Self {
        Assembly {
            options: config.db_options(),
            databases: Databases::new(),
            bus: Bus::new(config.bus.options(config.bus_url.as_ref())),
            shared: Shared::default(),
            routes: OpenApiRouter::new(),
            root_routes: OpenApiRouter::new(),
            sweeps: Vec::new(),
        }
    }

    /// Opens and migrates the service's database, builds the service, and answers what it
    /// provides to the services added after it.
    ///
    /// # Errors
    /// When its database, a migration or its build fails.
    pub async fn add<P>(&mut self, service: Service<P>) -> anyhow::Result<P> {
        let db = open_database(&self.options, &service)
            .await
            .map_err(|error| {
                anyhow::Error::new(error).context(format!("the {} database", service.name))
            })?;
        self.databases.insert(service.name, db.clone());
        let outbox = self.bus.outbox(service.name, db.clone());
        let Built { parts, provides } =
            (service.build)(&mut Wiring::new(db, outbox, &mut self.shared))
                .map_err(|error| error.context(format!("building the {} service", service.name)))?;
        for subscription in parts.subscriptions {
            self.bus.subscribe(subscription)?;
        }
        self.routes = std::mem::take(&mut self.routes).merge(parts.routes);
        self.root_routes = std::mem::take(&mut self.root_routes).merge(parts.root_routes);
        self.sweeps.extend(parts.sweeps);
        Ok(provides)
    }
}

/// The built services and what the gateway puts in front of them.
pub struct Platform {
    pub(crate) config: Config,
    pub(crate) databases: Databases,
    pub(crate) shared: Shared,
    /// Every service's routes: those under `/api/v1`, and those at the root.
    pub(crate) routes: (OpenApiRouter, OpenApiRouter),
    pub(crate) sweeps: Vec<Sweep>,
    pub(crate) verifier: Arc<Verifier>,
    pub(crate) limits: Arc<RateLimits>,
    pub(crate) draining: Draining,
    pub(crate) readiness: Readiness,
    /// Every service's outbox and the consumers; started with the server.
    pub(crate) bus: Bus,
    pub(crate) dead_letters: DeadLetters,
}

impl Platform {
    /// The registered services.
    ///
    /// # Errors
    /// When a database, a migration or the key file fails.
    pub async fn open(config: Config) -> anyhow::Result<Platform> {
        Platform::open_with(config, Vec::new()).await
    }

    /// The registered services, and `extra` ones after them (tests add their own).
    ///
    /// # Errors
    /// When a database, a migration or a service's build fails.
    pub async fn open_with(config: Config, extra: Vec<Service>) -> anyhow::Result<Platform> {
        // Before anything records a metric, so that nothing recorded at start-up is lost.
        let _recorder = crate::ops::metrics_handle();
        let mut assembly = Assembly::new(&config);
        registry::assemble(&config, &mut assembly).await?;
        for service in extra {
            assembly.add(service).await?;
        }
        let Assembly {
            databases,
            bus,
            shared,
            routes,
            root_routes,
            sweeps,
            ..
        } = assembly;
        let verifier = Arc::new(Verifier::new(
            &config.identity.issuer,
            &config.identity.audience,
        ));
        if let Some(identity) = shared.get::<Identity>() {
            verifier.replace_keys(&identity.keyring().jwks());
        }
        let dead_letters = DeadLetters::new(databases.values().cloned().collect());
        let readiness = Readiness::new(
            databases.clone(),
            bus.options().health.clone(),
            Duration::from_secs(config.bus.unready_after_secs),
        );
        readiness.measure().await;
        Ok(Platform {
            readiness,
            shared,
            routes: (routes, root_routes),
            sweeps,
            bus,
            dead_letters,
            limits: Arc::new(RateLimits::new(&config.rate_limit)),
            draining: Draining::default(),
            config,
            databases,
            verifier,
        })
    }

    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every service's database, by service name.
    #[must_use]
    pub fn databases(&self) -> &Databases {
        &self.databases
    }

    /// What a service provides: its use cases (`Identity`, `Catalog`, …) or a client.
    ///
    /// # Errors
    /// When no registered service provides it.
    pub fn service<T: ?Sized + Send + Sync + 'static>(&self) -> anyhow::Result<Arc<T>> {
        self.shared.require::<T>()
    }
}
