//! The service kit: a service is one value ([`Service`]) that the registry lists. The
//! platform opens the service's database, applies its migrations, gives it an outbox and
//! the clients of the services listed before it ([`Wiring`]), and takes back what it runs
//! ([`Parts`]): its routes, its event subscriptions and its sweeps. Its use cases fail with
//! one [`Error`] type, generic over the service's own refusals. [`Wakeups`] wakes a
//! service's live streams after the commits they wait for.

mod error;
mod shared;
mod sweep;
mod wakeups;

pub use error::{Error, Refusal, storage_problem};
pub use shared::Shared;
pub use sweep::Sweep;
pub use wakeups::Wakeups;

use ordo_bus::{Outbox, Subscription};
use ordo_db::{Db, Migration};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

/// Builds a service's parts once its database is migrated.
pub type Build = Box<dyn FnOnce(&mut Wiring<'_>) -> anyhow::Result<Parts> + Send>;

/// Everything the platform needs from a service.
pub struct Service {
    /// Its database, schema, event source and log target.
    pub name: &'static str,
    pub migrations: &'static [Migration],
    pub build: Build,
}

impl Service {
    pub fn new(
        name: &'static str,
        migrations: &'static [Migration],
        build: impl FnOnce(&mut Wiring<'_>) -> anyhow::Result<Parts> + Send + 'static,
    ) -> Self {
        Service {
            name,
            migrations,
            build: Box::new(build),
        }
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("name", &self.name).finish()
    }
}

/// What a service is built from: its own database and outbox, and what the services built
/// before it provide.
pub struct Wiring<'a> {
    db: Db,
    outbox: Outbox,
    shared: &'a mut Shared,
}

impl<'a> Wiring<'a> {
    pub fn new(db: Db, outbox: Outbox, shared: &'a mut Shared) -> Self {
        Wiring { db, outbox, shared }
    }

    #[must_use]
    pub fn db(&self) -> &Db {
        &self.db
    }

    #[must_use]
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// What an earlier service provided, typically one of `ordo_contracts`' client traits.
    ///
    /// # Errors
    /// When no service listed before this one provides it: the registry's order is wrong.
    pub fn require<T: ?Sized + Send + Sync + 'static>(&self) -> anyhow::Result<Arc<T>> {
        self.shared
            .require::<T>()
            .map_err(|error| error.context("is it registered after the service providing it?"))
    }

    /// Offers `value` to the services built after this one (and to the binary: the demo, the
    /// command line).
    pub fn provide<T: ?Sized + Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.shared.insert(value);
    }
}

/// What a built service runs.
#[derive(Default)]
pub struct Parts {
    /// Served under `/api/v1`.
    pub routes: OpenApiRouter,
    /// Served at the root, for the few paths standards fix (`/.well-known/…`).
    pub root_routes: OpenApiRouter,
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
    pub fn subscriptions(mut self, subscriptions: Vec<Subscription>) -> Self {
        self.subscriptions = subscriptions;
        self
    }

    #[must_use]
    pub fn sweep(mut self, sweep: Sweep) -> Self {
        self.sweeps.push(sweep);
        self
    }
}
