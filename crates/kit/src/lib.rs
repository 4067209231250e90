//! The service kit: a service is one value ([`Service`]) that the registry adds. It is
//! made with the clients of the services it calls, as typed arguments, so that the compiler
//! checks the wiring; the platform opens its database, applies its migrations, gives it an
//! outbox ([`Wiring`]), and takes back what it runs ([`Parts`]: its routes, its event
//! subscriptions and its sweeps) and what it provides to the services added after it
//! ([`Built`]: typically one of `ordo_contracts`' client traits) — or, when the service
//! runs in another process, that client over HTTP ([`Remote`]). Its use cases fail with
//! one [`Error`] type, generic over the service's own refusals. [`Wakeups`] wakes a
//! service's live streams after the commits they wait for.

mod error;
pub mod internal;
mod lease;
mod shared;
mod sweep;
mod wakeups;

pub use error::{Error, Refusal, storage_problem};
pub use lease::{COMPONENT, Lease, migrations};
pub use shared::Shared;
pub use sweep::Sweep;
pub use wakeups::Wakeups;

use ordo_bus::{Echoes, Outbox, Subscription};
use ordo_db::{Db, Migration};
use ordo_remote::ServiceClient;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

/// Builds a service's parts, and what it provides, once its database is migrated.
pub type Build<P> = Box<dyn FnOnce(&mut Wiring<'_>) -> anyhow::Result<Built<P>> + Send>;

/// What a service provides when it runs in another process: its client over HTTP, calling
/// its internal routes through `ServiceClient`.
pub type Remote<P> = Box<dyn FnOnce(ServiceClient) -> P + Send>;

/// Everything the platform needs from a service that provides `P` to the services after it.
pub struct Service<P = ()> {
    /// Its database, schema, event source and log target.
    pub name: &'static str,
    pub migrations: &'static [Migration],
    pub build: Build<P>,
    pub remote: Remote<P>,
    /// Where its public routes are.
    pub paths: fn() -> Paths,
}

impl Service {
    /// A service that provides nothing to other services, serving its routes at `paths`.
    pub fn new(
        name: &'static str,
        migrations: &'static [Migration],
        paths: fn() -> Paths,
        build: impl FnOnce(&mut Wiring<'_>) -> anyhow::Result<Parts> + Send + 'static,
    ) -> Self {
        Service {
            name,
            migrations,
            build: Box::new(|wiring| build(wiring).map(Built::from)),
            remote: Box::new(drop),
            paths,
        }
    }
}

impl<P> Service<P> {
    /// A service that provides `P` to the services added after it: built here, or made by
    /// `remote` from a client of its instances elsewhere.
    pub fn providing(
        name: &'static str,
        migrations: &'static [Migration],
        paths: fn() -> Paths,
        build: impl FnOnce(&mut Wiring<'_>) -> anyhow::Result<Built<P>> + Send + 'static,
        remote: impl FnOnce(ServiceClient) -> P + Send + 'static,
    ) -> Self {
        Service {
            name,
            migrations,
            build: Box::new(build),
            remote: Box::new(remote),
            paths,
        }
    }
}

impl<P> std::fmt::Debug for Service<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("name", &self.name).finish()
    }
}

/// What a service is built from: its own database and outbox; and where it shows its use
/// cases to the binary (the demo, the command line, tests).
pub struct Wiring<'a> {
    db: Db,
    outbox: Outbox,
    echoes: Echoes,
    redis: Option<ordo_redis::Redis>,
    shared: &'a mut Shared,
}

impl<'a> Wiring<'a> {
    pub fn new(db: Db, outbox: Outbox, echoes: Echoes, shared: &'a mut Shared) -> Self {
        Wiring {
            db,
            outbox,
            echoes,
            redis: None,
            shared,
        }
    }

    /// What the platform's processes share in Redis, when it has one (scale-out).
    #[must_use]
    pub fn with_redis(mut self, redis: Option<ordo_redis::Redis>) -> Self {
        self.redis = redis;
        self
    }

    /// The platform's Redis; `None` in one process without it, which keeps what Redis
    /// would share in memory.
    #[must_use]
    pub fn redis(&self) -> Option<&ordo_redis::Redis> {
        self.redis.as_ref()
    }

    /// Where the service's live streams hear of changes other processes committed
    /// ([`Wakeups::echo_through`]).
    #[must_use]
    pub fn echoes(&self) -> &Echoes {
        &self.echoes
    }

    #[must_use]
    pub fn db(&self) -> &Db {
        &self.db
    }

    #[must_use]
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Shows `value` (the service's use cases) to the binary: the demo, the command line and
    /// tests reach a service running in this process through it. Services never do: they
    /// are given one another's clients as arguments.
    pub fn expose<T: ?Sized + Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.shared.insert(value);
    }
}

/// Where a service's public routes are, known without building it: what a gateway routes
/// by, so that a route cannot exist in a service and not in the gateway.
#[derive(Clone, Default)]
pub struct Paths {
    /// Its routes under `/api/v1`, as its OpenAPI document says them.
    pub api: utoipa::openapi::OpenApi,
    /// Its routes at the root (`/.well-known/…`).
    pub root: utoipa::openapi::OpenApi,
}

impl Paths {
    /// The paths of `routes`, served under `/api/v1`.
    #[must_use]
    pub fn of<S: Clone + Send + Sync + 'static>(routes: OpenApiRouter<S>) -> Self {
        Paths {
            api: routes.split_for_parts().1,
            root: utoipa::openapi::OpenApi::default(),
        }
    }

    /// With `routes` served at the root too.
    #[must_use]
    pub fn with_root<S: Clone + Send + Sync + 'static>(mut self, routes: OpenApiRouter<S>) -> Self {
        self.root = routes.split_for_parts().1;
        self
    }
}

/// What a built service runs, and what it provides.
pub struct Built<P> {
    pub parts: Parts,
    pub provides: P,
}

/// A service that provides nothing to others.
impl From<Parts> for Built<()> {
    fn from(parts: Parts) -> Self {
        Built {
            parts,
            provides: (),
        }
    }
}

/// What a built service runs.
#[derive(Default)]
pub struct Parts {
    /// Served under `/api/v1`.
    pub routes: OpenApiRouter,
    /// Served at the root, for the few paths standards fix (`/.well-known/…`).
    pub root_routes: OpenApiRouter,
    /// Served under `/internal/v1/{name}` to the other services only (a service token for
    /// this service is required); never routed by a gateway.
    pub internal: axum::Router,
    pub subscriptions: Vec<Subscription>,
    pub sweeps: Vec<Sweep>,
}

impl Parts {
    #[must_use]
    pub fn routes(routes: OpenApiRouter) -> Self {
        Parts {
            routes,
            ..Parts::default()
        }
    }

    #[must_use]
    pub fn root_routes(mut self, routes: OpenApiRouter) -> Self {
        self.root_routes = routes;
        self
    }

    #[must_use]
    pub fn internal(mut self, routes: axum::Router) -> Self {
        self.internal = routes;
        self
    }

    #[must_use]
    pub fn subscriptions(mut self, subscriptions: Vec<Subscription>) -> Self {
        self.subscriptions = subscriptions;
        self
    }

    #[must_use]
    pub fn sweep(mut self, sweep: Sweep) -> Self {
        self.sweeps.push(sweep);
        self
    }

    /// These parts, and `provides` for the services added after this one.
    #[must_use]
    pub fn providing<P>(self, provides: P) -> Built<P> {
        Built {
            parts: self,
            provides,
        }
    }
}
