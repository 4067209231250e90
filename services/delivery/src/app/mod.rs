//! Delivery's use cases: couriers' availability and positions (`couriers`), dispatch and
//! its sweep (`dispatch`), offers (`offers`), a delivery's steps (`deliveries`), and what
//! operators do for a delivery nobody took (`operators`). Writes
//! run in one transaction with the events they publish; the fleet (`fleet`) follows.

mod client;
mod couriers;
mod deliveries;
mod dispatch;
pub mod fleet;
mod followers;
mod offers;
mod operators;
mod shipments;
mod timeline;

#[cfg(test)]
mod tests;

pub use couriers::{CourierStatus, FleetOverview};
pub use fleet::Fleet;
pub use operators::Redispatched;
pub use shipments::ScanOutcome;

use crate::config::DeliveryConfig;
use followers::Followers;
use ordo_bus::Outbox;
use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::identity::IdentityClient;
use ordo_db::Db;
use ordo_kernel::{Caller, Role};
use std::sync::Arc;
use tokio::sync::OnceCell;

pub struct Delivery {
    db: Db,
    outbox: Outbox,
    config: DeliveryConfig,
    fleet: Fleet,
    /// Loaded from the database on first use (the service is built before anything runs).
    fleet_loaded: OnceCell<()>,
    catalog: Arc<dyn CatalogClient>,
    identity: Arc<dyn IdentityClient>,
    /// Wakes the streams following a delivery as it changes.
    followers: Arc<Followers>,
    /// Couriers' names, as operators see them.
    names: tokio::sync::Mutex<std::collections::HashMap<uuid::Uuid, String>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("db", &self.db)
            .field("fleet", &self.fleet)
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Position reports from a courier who is offline.
    #[error("the courier is offline; go online first")]
    Offline,
    #[error("too many position reports")]
    TooOften(std::time::Duration),
    /// The offer was answered, expired or withdrawn, or the delivery was taken.
    #[error("{0}")]
    Gone(&'static str),
    #[error("the delivery is {0} and cannot be {1}")]
    IllegalTransition(&'static str, &'static str),
    /// A carrier event without a valid signature.
    #[error("carrier event refused: {0}")]
    BadSignature(&'static str),
    /// A delivery order arrived without where it goes.
    #[error("order {0} is for delivery but has no address")]
    NoAddress(uuid::Uuid),
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<DeliveryError>;

impl Delivery {
    #[must_use]
    pub fn new(
        db: Db,
        outbox: Outbox,
        config: DeliveryConfig,
        catalog: Arc<dyn CatalogClient>,
        identity: Arc<dyn IdentityClient>,
        redis: Option<ordo_redis::Redis>,
    ) -> Self {
        let fleet = match redis {
            Some(redis) => Fleet::Redis(crate::store::fleet::RedisFleet::new(
                redis,
                config.location_limit,
            )),
            None => Fleet::in_memory(config.resolution(), config.location_limit),
        };
        offers::count_offers_from_zero();
        Delivery {
            db,
            outbox,
            config,
            fleet,
            fleet_loaded: OnceCell::new(),
            catalog,
            identity,
            followers: Arc::default(),
            names: tokio::sync::Mutex::default(),
        }
    }

    /// What the consumer calls after each commit, with the events it handled: the
    /// streams following the deliveries they changed are woken.
    /// Streams following a delivery in other processes (orders' tracking) are woken by
    /// what changes here.
    pub fn echo_streams(&self, echoes: &ordo_bus::Echoes) {
        self.followers.echo_through(echoes);
    }

    pub(crate) fn changes_committed(&self) -> impl Fn(&[uuid::Uuid]) + Send + Sync + 'static {
        let followers = self.followers.clone();
        move |events| followers.committed(events)
    }

    /// The consumer's `event` changes `order`'s delivery, in its transaction.
    pub(crate) fn changing(&self, event: uuid::Uuid, order: uuid::Uuid) {
        self.followers.changing(event, order);
    }

    /// Notified when a courier may be asked while deliveries wait for one: the dispatch
    /// sweep runs then, not only at its interval.
    #[must_use]
    pub fn couriers_free(&self) -> Arc<tokio::sync::Notify> {
        self.fleet.waiters().free()
    }

    /// Whether the fleet is kept in this process's memory (not shared with other instances).
    #[must_use]
    pub fn fleet_in_memory(&self) -> bool {
        matches!(self.fleet, Fleet::Memory(_))
    }

    /// The fleet, loaded from the database the first time.
    async fn fleet(&self) -> Result<&Fleet, AppError> {
        self.fleet_loaded
            .get_or_try_init(|| self.load_fleet(true))
            .await?;
        Ok(&self.fleet)
    }

    /// Loads the fleet from the database if it is missing (at start, or after Redis lost
    /// it); a courier the fleet knows already keeps what it knows.
    async fn load_fleet(&self, first: bool) -> Result<(), AppError> {
        if self.fleet.needs_loading(first).await? {
            for (id, courier) in crate::store::couriers(&self.db).await? {
                self.fleet.load(id, courier).await?;
            }
        }
        Ok(())
    }
}

/// Only administrators see the fleet and act for a delivery nobody took.
fn admin_only(caller: &Caller) -> Result<(), AppError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only administrators do this"))
    }
}

/// Only couriers have availability, positions, offers and deliveries.
fn courier_only(caller: &Caller) -> Result<(), AppError> {
    if caller.role == Role::Courier {
        Ok(())
    } else {
        Err(AppError::Forbidden("only couriers do this"))
    }
}
