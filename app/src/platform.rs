//! The platform in one process: the registry's services added one by one ([`Assembly`]),
//! each with its database opened and migrated, built with the clients of the services added
//! before it. Serving it is `server`'s.

use crate::config::{Config, ServiceEndpoint};
use crate::ops::Readiness;
use crate::registry::{self, Databases};
use anyhow::Context;
use ordo_bus::{Bus, DeadLetters};
use ordo_db::Db;
use ordo_http::Verifier;
use ordo_http::auth::LEEWAY_SECONDS;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::Draining;
use ordo_http::service_auth::{ServiceTokens, service_only};
use ordo_identity::Keyring;
use ordo_kit::{Built, Lease, Paths, Service, Shared, Sweep, Wiring};
use ordo_remote::Remotes;
use std::collections::BTreeMap;
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
    db.migrate_component(ordo_kit::COMPONENT, &ordo_kit::migrations())
        .await?;
    Ok(db)
}

/// The platform as the registry puts it together: each service added gets its database, an
/// outbox, and the clients it was made with; what it runs is collected for the server. A
/// service this process does not run (`run`) is not built: what it provides is its client
/// over HTTP, to the instances `services.NAME.urls` names.
pub struct Assembly {
    options: ordo_db::DbOptions,
    /// The services to build here; `None`: every one.
    here: Option<Vec<String>>,
    endpoints: BTreeMap<String, ServiceEndpoint>,
    remotes: Remotes,
    verifier: Arc<Verifier>,
    keyring: Arc<Keyring>,
    databases: Databases,
    bus: Bus,
    shared: Shared,
    routes: OpenApiRouter,
    root_routes: OpenApiRouter,
    internal: axum::Router,
    sweeps: Vec<Sweep>,
    /// Every service added, here or elsewhere.
    names: Vec<&'static str>,
    /// The services elsewhere that nothing says where to find, with whether a service here
    /// still holds their client once all are built.
    unplaced: Vec<(&'static str, std::sync::Weak<()>)>,
    /// For a gateway: every service's routes; none is built.
    paths: Option<Vec<(&'static str, Paths)>>,
    /// What this process holds shared sweeps as, when other processes may run the same
    /// services (on PostgreSQL); `None` in one process on SQLite.
    holder: Option<String>,
    /// What the processes share, when the platform has a Redis.
    redis: Option<ordo_redis::Redis>,
}

impl Assembly {
    /// # Errors
    /// When the key file cannot be read or made, or `redis_url` is not a Redis URL.
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        let retain = Duration::from_secs(config.identity.access_token_ttl_secs + LEEWAY_SECONDS);
        let path = config.keys_file();
        let keyring = Arc::new(
            Keyring::open(&path, retain)
                .with_context(|| format!("the signing keys in {}", path.display()))?,
        );
        let verifier = Arc::new(Verifier::new(
            &config.identity.issuer,
            &config.identity.audience,
        ));
        verifier.replace_keys(&keyring.jwks());
        let caller = if config.run.is_empty() {
            "ordo".to_owned()
        } else {
            config.run.join(",")
        };
        let tokens = ServiceTokens::new(keyring.clone(), &config.identity.issuer, &caller);
        let bus = Bus::new(config.bus.options(config.bus_url.as_ref()));
        let redis = match &config.redis_url {
            Some(url) => Some(
                ordo_redis::Redis::open_with(
                    url.expose(),
                    &config.redis.prefix,
                    config.redis.tls()?,
                )
                .await
                .context("redis_url")?,
            ),
            None => None,
        };
        Ok(Assembly {
            options: config.db_options(),
            here: (!config.run.is_empty()).then(|| config.run.clone()),
            endpoints: config.services.clone(),
            remotes: Remotes::new(Arc::new(tokens), config.remote.settings(), bus.echoes()),
            verifier,
            keyring,
            databases: Databases::new(),
            bus,
            shared: Shared::default(),
            routes: OpenApiRouter::new(),
            root_routes: OpenApiRouter::new(),
            internal: axum::Router::new(),
            sweeps: Vec::new(),
            names: Vec::new(),
            unplaced: Vec::new(),
            paths: None,
            holder: config
                .database_url
                .is_some()
                .then(|| ordo_kernel::new_id().to_string()),
            redis,
        })
    }

    /// The rate limits of this process: shared through Redis when the platform has one and
    /// this process is a public entry (a gateway, or the platform in one process). Services
    /// in processes of their own sit behind the gateways, which took the request from the
    /// shared allowance already: they limit on their own, so as not to take it twice.
    #[must_use]
    pub fn rate_limits(&self, config: &Config) -> Arc<RateLimits> {
        let shared = self.redis.as_ref().filter(|_| config.run.is_empty());
        Arc::new(match shared {
            Some(redis) => RateLimits::shared(
                &config.rate_limit,
                Arc::new(ordo_redis::Gcra::new(redis.clone())),
            ),
            None => RateLimits::new(&config.rate_limit),
        })
    }

    /// An assembly that builds no service and collects where every one's routes are, for a
    /// gateway in front of them.
    ///
    /// # Errors
    /// When the key file cannot be read or made, or `redis_url` is not a Redis URL.
    pub async fn for_routing(config: &Config) -> anyhow::Result<Self> {
        let mut assembly = Assembly::new(config).await?;
        assembly.here = Some(Vec::new());
        assembly.paths = Some(Vec::new());
        Ok(assembly)
    }

    /// Every service's routes, and the keys to check tokens with, once the registry added
    /// them all to an assembly made `for_routing`.
    #[must_use]
    pub fn routing(self) -> (Vec<(&'static str, Paths)>, Arc<Verifier>, Arc<Keyring>) {
        (self.paths.unwrap_or_default(), self.verifier, self.keyring)
    }

    /// The keys that sign users' and services' tokens, shared by every process of the
    /// platform.
    #[must_use]
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.clone()
    }

    fn runs_here(&self, name: &str) -> bool {
        self.here
            .as_ref()
            .is_none_or(|here| here.iter().any(|n| n == name))
    }

    /// Opens and migrates the service's database, builds the service, and answers what it
    /// provides to the services added after it; for a service that runs elsewhere, its
    /// client over HTTP.
    ///
    /// # Errors
    /// When its database, a migration or its build fails.
    pub async fn add<P>(&mut self, service: Service<P>) -> anyhow::Result<P> {
        self.names.push(service.name);
        if let Some(paths) = &mut self.paths {
            paths.push((service.name, (service.paths)()));
        }
        if !self.runs_here(service.name) {
            let urls = self
                .endpoints
                .get(service.name)
                .map(|endpoint| endpoint.urls.clone())
                .unwrap_or_default();
            let client = self.remotes.to(service.name, urls.clone());
            if urls.is_empty() {
                self.unplaced.push((service.name, client.held()));
            }
            return Ok((service.remote)(client));
        }
        let mut options = self.options.clone();
        if let Some(endpoint) = self.endpoints.get(service.name) {
            if let Some(pool) = endpoint.max_connections {
                options.max_connections = pool;
            }
            if let Some(url) = &endpoint.database_url {
                options.url = Some(url.clone());
            }
        }
        let db = open_database(&options, &service).await.map_err(|error| {
            anyhow::Error::new(error).context(format!("the {} database", service.name))
        })?;
        self.databases.insert(service.name, db.clone());
        let outbox = self.bus.outbox(service.name, db.clone());
        let Built { parts, provides } = (service.build)(
            &mut Wiring::new(db.clone(), outbox, self.bus.echoes(), &mut self.shared)
                .with_redis(self.redis.clone()),
        )
        .map_err(|error| error.context(format!("building the {} service", service.name)))?;
        for subscription in parts.subscriptions {
            self.bus.subscribe(subscription)?;
        }
        self.routes = std::mem::take(&mut self.routes).merge(parts.routes);
        self.root_routes = std::mem::take(&mut self.root_routes).merge(parts.root_routes);
        if parts.internal.has_routes() {
            let callee = (self.verifier.clone(), service.name);
            let internal = parts
                .internal
                .layer(axum::middleware::from_fn_with_state(callee, service_only));
            self.internal = std::mem::take(&mut self.internal)
                .nest(&format!("/internal/v1/{}", service.name), internal);
        }
        let holder = self.holder.clone();
        self.sweeps
            .extend(parts.sweeps.into_iter().map(|sweep| match &holder {
                Some(holder) => sweep.leased(Lease::new(db.clone(), holder)),
                None => sweep,
            }));
        Ok(provides)
    }

    /// Fails when `run` names a service the registry does not have, or when a service here
    /// calls one elsewhere that nothing says where to find. Once every service is built, a
    /// client nobody kept is one no service here calls.
    fn check_run(&self) -> anyhow::Result<()> {
        if let Some(unknown) = self
            .here
            .iter()
            .flatten()
            .find(|name| !self.names.contains(&name.as_str()))
        {
            anyhow::bail!(
                "run: there is no service `{unknown}`; the services are {}",
                self.names.join(", ")
            );
        }
        if let Some((name, _)) = self
            .unplaced
            .iter()
            .find(|(_, held)| held.upgrade().is_some())
        {
            anyhow::bail!(
                "services.{name}.urls (ORDO_SERVICES__{}__URLS) is not set: where does {name} run?",
                name.to_uppercase()
            );
        }
        Ok(())
    }
}

/// The built services and what the gateway puts in front of them.
pub struct Platform {
    pub(crate) config: Config,
    pub(crate) databases: Databases,
    pub(crate) shared: Shared,
    /// Every service's routes: those under `/api/v1`, and those at the root.
    pub(crate) routes: (OpenApiRouter, OpenApiRouter),
    /// The routes of the services here for services elsewhere (`/internal/v1`).
    pub(crate) internal: axum::Router,
    /// The keys that sign and verify tokens; reloaded when `ordo keys rotate` changes them.
    pub(crate) keyring: Arc<Keyring>,
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
        let mut assembly = Assembly::new(&config).await?;
        registry::assemble(&config, &mut assembly).await?;
        for service in extra {
            assembly.add(service).await?;
        }
        assembly.check_run()?;
        let limits = assembly.rate_limits(&config);
        let Assembly {
            databases,
            bus,
            shared,
            routes,
            root_routes,
            internal,
            sweeps,
            verifier,
            keyring,
            redis,
            ..
        } = assembly;
        let dead_letters = DeadLetters::new(databases.values().cloned().collect());
        let readiness = Readiness::new(
            databases.clone(),
            bus.options().health.clone(),
            Duration::from_secs(config.bus.unready_after_secs),
        )
        .sharing(redis, limits.clone());
        readiness.measure().await;
        Ok(Platform {
            readiness,
            shared,
            routes: (routes, root_routes),
            internal,
            keyring,
            sweeps,
            bus,
            dead_letters,
            limits,
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
