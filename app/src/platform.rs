//! The platform in one process: every registered service's database opened and migrated,
//! and the services built and wired. Serving it is `server`'s.

use crate::config::Config;
use crate::ops::Readiness;
use crate::registry::{self, Databases};
use ordo_bus::{Bus, DeadLetters};
use ordo_db::Db;
use ordo_http::Verifier;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::Draining;
use ordo_identity::Identity;
use ordo_kit::{Service, Shared, Sweep, Wiring};
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;

/// Opening a database that is down is tried again after this long, doubling up to the most.
const OPEN_FIRST_WAIT: Duration = Duration::from_millis(200);
const OPEN_LONGEST_WAIT: Duration = Duration::from_secs(10);

/// Opens the services' databases and applies their migrations (and the bus's). A database
/// that cannot be reached yet (starting, behind a slow network, restarting) is waited for,
/// with backoff, however long it takes: a process restarted by its supervisor comes up on
/// its own once the database does.
///
/// # Errors
/// When a database refuses for another reason (a wrong password, a failed migration).
pub async fn open_databases(config: &Config, services: &[Service]) -> anyhow::Result<Databases> {
    let options = config.db_options();
    let mut databases = Databases::new();
    for service in services {
        let mut wait = OPEN_FIRST_WAIT;
        let db = loop {
            match open_database(&options, service).await {
                Ok(db) => break db,
                Err(error) if error.is_unavailable() => {
                    tracing::warn!(service = service.name, %error, retry_in_ms = wait.as_millis(), "the database cannot be reached yet; waiting for it");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(OPEN_LONGEST_WAIT);
                }
                Err(error) => return Err(error.into()),
            }
        };
        databases.insert(service.name, db);
    }
    Ok(databases)
}

async fn open_database(
    options: &ordo_db::DbOptions,
    service: &Service,
) -> Result<Db, ordo_db::DbError> {
    let db = Db::connect(options, service.name).await?;
    db.migrate(service.migrations).await?;
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await?;
    Ok(db)
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
        let services = registry::services(&config);
        Platform::open_with(config, services).await
    }

    /// `services` instead of the registered ones.
    ///
    /// # Errors
    /// When a database, a migration or a service's build fails.
    pub async fn open_with(config: Config, services: Vec<Service>) -> anyhow::Result<Platform> {
        // Before anything records a metric, so that nothing recorded at start-up is lost.
        let _recorder = crate::ops::metrics_handle();
        let databases = open_databases(&config, &services).await?;
        let mut bus = Bus::new(config.bus.options(config.bus_url.as_ref()));
        let mut shared = Shared::default();
        let (mut routes, mut root_routes) = (OpenApiRouter::new(), OpenApiRouter::new());
        let mut sweeps = Vec::new();
        for service in services {
            let db = databases[service.name].clone();
            let outbox = bus.outbox(service.name, db.clone());
            let parts = (service.build)(&mut Wiring::new(db, outbox, &mut shared))
                .map_err(|error| error.context(format!("building the {} service", service.name)))?;
            for subscription in parts.subscriptions {
                bus.subscribe(subscription)?;
            }
            routes = routes.merge(parts.routes);
            root_routes = root_routes.merge(parts.root_routes);
            sweeps.extend(parts.sweeps);
        }
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

    /// What a service provides: its use cases (`Identity`, `Catalog`, …) or a client.
    ///
    /// # Errors
    /// When no registered service provides it.
    pub fn service<T: ?Sized + Send + Sync + 'static>(&self) -> anyhow::Result<Arc<T>> {
        self.shared.require::<T>()
    }
}
