//! The couriers as they are now: who is online, idle, and where. Positions are the
//! platform's most frequent write; they land here and reach the database every few seconds
//! (`Delivery::persist_positions`). One process keeps the fleet in memory ([`memory`]);
//! processes that share the platform keep it in Redis (`crate::store::fleet`), so that any
//! number of delivery instances dispatch from one fleet. Which courier wins a delivery is
//! still decided in the database.

mod memory;

use super::AppError;
use crate::domain::{Candidate, Fix};
use crate::store::fleet::RedisFleet;
use h3o::{CellIndex, LatLng, Resolution};
use ordo_kernel::trace::TraceContext;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

/// A courier as the fleet knows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Courier {
    pub online: bool,
    pub fix: Option<Fix>,
    /// Carrying a delivery: not asked for another.
    pub busy: bool,
    pub idle_since: OffsetDateTime,
}

/// Why a position was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    Offline,
    TooFast(&'static str),
    TooOften(Duration),
}

/// How long a courier taken for a delivery stays busy without the database saying so: the
/// transaction that took it has committed or failed by then.
pub(crate) const CLAIM_GRACE: time::Duration = time::Duration::seconds(30);

/// The H3 cell of a point; `None` for coordinates that are not on Earth.
#[must_use]
pub fn cell_at(lat: f64, lon: f64, resolution: Resolution) -> Option<CellIndex> {
    LatLng::new(lat, lon).ok().map(|at| at.to_cell(resolution))
}

/// Dispatch waiting for a courier to become askable: while deliveries wait with nobody to
/// ask, a courier who may be asked (online in a new place, or idle again) wakes it at once
/// rather than at its next round.
#[derive(Debug, Clone, Default)]
pub struct Waiters {
    wanted: Arc<AtomicBool>,
    free: Arc<Notify>,
}

impl Waiters {
    #[must_use]
    pub fn free(&self) -> Arc<Notify> {
        self.free.clone()
    }

    /// Whether deliveries wait with nobody to ask.
    pub fn set_wanted(&self, wanted: bool) {
        self.wanted.store(wanted, Ordering::Relaxed);
    }

    /// A courier became askable (`askable`): dispatch looks again if it waits for one.
    pub fn may_be_asked(&self, askable: bool) {
        if askable && self.wanted.load(Ordering::Relaxed) {
            self.free.notify_one();
        }
    }
}

/// The fleet, wherever it is kept.
pub enum Fleet {
    Memory(memory::Fleet),
    Redis(RedisFleet),
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fleet::Memory(_) => "Fleet::Memory",
            Fleet::Redis(_) => "Fleet::Redis",
        })
    }
}

impl Fleet {
    #[must_use]
    pub fn in_memory(resolution: Resolution, reports: ordo_http::ratelimit::Quota) -> Self {
        Fleet::Memory(memory::Fleet::new(resolution, reports, Waiters::default()))
    }

    #[must_use]
    pub fn waiters(&self) -> &Waiters {
        match self {
            Fleet::Memory(fleet) => fleet.waiters(),
            Fleet::Redis(fleet) => fleet.waiters(),
        }
    }

    /// Whether the fleet must be loaded from the database: in memory at start (`first`),
    /// in Redis whenever Redis lost it (it keeps nothing on disk) — the first instance to
    /// ask loads it.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn needs_loading(&self, first: bool) -> Result<bool, AppError> {
        match self {
            Fleet::Memory(_) => Ok(first),
            Fleet::Redis(fleet) => fleet.needs_loading().await.map_err(AppError::from),
        }
    }

    /// Puts a courier in the fleet as stored, unless the fleet knows it already.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn load(&self, id: Uuid, courier: Courier) -> Result<(), AppError> {
        match self {
            Fleet::Memory(fleet) => {
                fleet.load(id, courier);
                Ok(())
            }
            Fleet::Redis(fleet) => fleet.load(id, &courier).await.map_err(AppError::from),
        }
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn get(&self, id: Uuid) -> Result<Option<Courier>, AppError> {
        match self {
            Fleet::Memory(fleet) => Ok(fleet.get(id)),
            Fleet::Redis(fleet) => fleet.get(id).await.map_err(AppError::from),
        }
    }

    /// The couriers who are online or carrying a delivery, as they are now.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn working(&self) -> Result<Vec<(Uuid, Courier)>, AppError> {
        match self {
            Fleet::Memory(fleet) => Ok(fleet.working()),
            Fleet::Redis(fleet) => fleet.working().await.map_err(AppError::from),
        }
    }

    /// Online or offline; false when the fleet does not know the courier yet.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn set_online(
        &self,
        id: Uuid,
        online: bool,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        match self {
            Fleet::Memory(fleet) => Ok(fleet.set_online(id, online, now)),
            Fleet::Redis(fleet) => fleet
                .set_online(id, online, now)
                .await
                .map_err(AppError::from),
        }
    }

    /// Takes a position report made in `trace`: online couriers only, at most as often as
    /// the quota allows, and only where a vehicle could have got to.
    ///
    /// # Errors
    /// Redis cannot be reached; the inner error says why the report was refused.
    pub async fn locate(
        &self,
        id: Uuid,
        fix: Fix,
        max_speed_kmh: f64,
        trace: TraceContext,
    ) -> Result<Result<(), Refused>, AppError> {
        match self {
            Fleet::Memory(fleet) => {
                Ok(fleet.locate(id, fix.lat, fix.lon, fix.at, max_speed_kmh, trace))
            }
            Fleet::Redis(fleet) => fleet
                .locate(id, fix, max_speed_kmh, trace)
                .await
                .map_err(AppError::from),
        }
    }

    /// Idle again, waiting from `now`: its delivery ended, or taking it failed. A failure
    /// to say so is repaired by the next reconciliation with the database.
    pub async fn release(&self, id: Uuid, now: OffsetDateTime) {
        match self {
            Fleet::Memory(fleet) => fleet.release(id, now),
            Fleet::Redis(fleet) => {
                if let Err(error) = fleet.release(id, now, None).await {
                    tracing::warn!(courier.id = %id, %error, "a courier stays busy until the fleet is reconciled");
                }
            }
        }
    }

    /// Takes an idle courier for a delivery; false when it is busy already (or unknown).
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn claim(&self, id: Uuid, now: OffsetDateTime) -> Result<bool, AppError> {
        match self {
            Fleet::Memory(fleet) => Ok(fleet.claim(id, now)),
            Fleet::Redis(fleet) => fleet.claim(id, now).await.map_err(AppError::from),
        }
    }

    /// Puts the busy flags in line with `busy`, the couriers the database says carry a
    /// delivery; one taken moments ago keeps its flag while its transaction finishes.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn reconcile_busy(
        &self,
        busy: &HashSet<Uuid>,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        match self {
            Fleet::Memory(fleet) => {
                fleet.reconcile_busy(busy, now);
                Ok(())
            }
            Fleet::Redis(fleet) => fleet
                .reconcile_busy(busy, now)
                .await
                .map_err(AppError::from),
        }
    }

    /// The positions reported since the last call, each with the trace of its report.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn take_dirty(&self) -> Result<Vec<(Uuid, Fix, Option<TraceContext>)>, AppError> {
        match self {
            Fleet::Memory(fleet) => Ok(fleet.take_dirty()),
            Fleet::Redis(fleet) => fleet.take_dirty().await.map_err(AppError::from),
        }
    }

    /// Marks positions as not written after all (the write failed).
    pub async fn still_dirty(&self, ids: &[Uuid]) {
        match self {
            Fleet::Memory(fleet) => fleet.still_dirty(ids),
            Fleet::Redis(fleet) => {
                if let Err(error) = fleet.still_dirty(ids).await {
                    tracing::warn!(%error, positions = ids.len(), "positions not written are lost; the couriers' next reports bring them");
                }
            }
        }
    }

    /// Couriers not heard from since `before` are no longer asked until they report again
    /// (their app is gone); in memory, one process sees its couriers go offline itself.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn set_aside_silent(&self, before: OffsetDateTime) -> Result<usize, AppError> {
        match self {
            Fleet::Memory(_) => Ok(0),
            Fleet::Redis(fleet) => fleet.set_aside_silent(before).await.map_err(AppError::from),
        }
    }

    /// Up to `limit` online, idle couriers within `radius_km` of `at`, not in `except`,
    /// in the order they are to be asked.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn candidates(
        &self,
        at: (f64, f64),
        radius_km: f64,
        except: &HashSet<Uuid>,
        limit: usize,
    ) -> Result<Vec<Candidate>, AppError> {
        match self {
            Fleet::Memory(fleet) => Ok(fleet.candidates(at, radius_km, except, limit)),
            Fleet::Redis(fleet) => fleet
                .candidates(at, radius_km, except, limit)
                .await
                .map_err(AppError::from),
        }
    }
}
