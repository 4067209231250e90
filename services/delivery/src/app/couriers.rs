//! Couriers going online and offline, and their positions.

use super::fleet::{Courier, Refused};
use super::{AppError, Delivery, DeliveryError, admin_only, courier_only};
use crate::domain::{self, Fix};
use crate::store;
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{Caller, Violations, geo};
use std::collections::HashSet;
use time::OffsetDateTime;
use uuid::Uuid;

/// The most open deliveries the operators' map shows.
pub const OVERVIEW_DELIVERIES: i64 = 500;

/// The city as operators see it now: the couriers at work and the deliveries not yet ended.
#[derive(Debug)]
pub struct FleetOverview {
    /// Each with its name, when identity knows it.
    pub couriers: Vec<(Uuid, Option<String>, CourierStatus)>,
    pub deliveries: Vec<domain::Delivery>,
}

/// A courier's availability as the courier sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CourierStatus {
    pub online: bool,
    pub busy: bool,
    pub fix: Option<Fix>,
}

impl From<Courier> for CourierStatus {
    fn from(c: Courier) -> Self {
        CourierStatus {
            online: c.online,
            busy: c.busy,
            fix: c.fix,
        }
    }
}

impl Delivery {
    /// The couriers online or carrying a delivery, where they are, and the newest
    /// [`OVERVIEW_DELIVERIES`] deliveries not yet ended.
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator.
    pub async fn overview(&self, caller: &Caller) -> Result<FleetOverview, AppError> {
        admin_only(caller)?;
        let mut working = self.fleet().await?.working().await?;
        working.sort_by_key(|(id, _)| *id);
        let mut couriers = Vec::with_capacity(working.len());
        for (id, courier) in working {
            couriers.push((id, self.name_of(id).await, CourierStatus::from(courier)));
        }
        let deliveries = store::open_deliveries(&self.db, OVERVIEW_DELIVERIES).await?;
        Ok(FleetOverview {
            couriers,
            deliveries,
        })
    }

    /// A courier's name, as identity has it; asked once per courier (names hardly change,
    /// and the console asks for the whole fleet every few seconds).
    pub(super) async fn name_of(&self, id: Uuid) -> Option<String> {
        if let Some(name) = self.names.lock().await.get(&id) {
            return Some(name.clone());
        }
        match self.identity.contact(id).await {
            Ok(Some(contact)) => {
                self.names.lock().await.insert(id, contact.name.clone());
                Some(contact.name)
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(courier.id = %id, %error, "cannot learn a courier's name");
                None
            }
        }
    }

    /// Online (offers may come) or offline (none do; the last position is written at once).
    ///
    /// # Errors
    /// `Forbidden` for anyone but a courier.
    pub async fn set_availability(
        &self,
        caller: &Caller,
        online: bool,
    ) -> Result<CourierStatus, AppError> {
        courier_only(caller)?;
        let fleet = self.fleet().await?;
        let now = ordo_kernel::time::now();
        if !fleet.set_online(caller.user_id, online, now).await? {
            let first = Courier {
                online,
                fix: None,
                busy: false,
                idle_since: now,
            };
            fleet.load(caller.user_id, first).await?;
            // Another instance may have put the courier in the fleet meanwhile.
            fleet.set_online(caller.user_id, online, now).await?;
        }
        let courier = fleet.get(caller.user_id).await?.ok_or(AppError::NotFound)?;
        let mut tx = self.db.begin().await?;
        store::save_courier(&mut tx, caller.user_id, &courier, now).await?;
        tx.commit().await?;
        Ok(courier.into())
    }

    /// The caller's availability and last position; offline and nowhere before the first
    /// time they go online.
    ///
    /// # Errors
    /// `Forbidden` for anyone but a courier.
    pub async fn availability(&self, caller: &Caller) -> Result<CourierStatus, AppError> {
        courier_only(caller)?;
        let fleet = self.fleet().await?;
        Ok(fleet.get(caller.user_id).await?.map_or(
            CourierStatus {
                online: false,
                busy: false,
                fix: None,
            },
            CourierStatus::from,
        ))
    }

    /// Takes a courier's position, reported in `trace`: kept in memory, written every few
    /// seconds.
    ///
    /// # Errors
    /// `Invalid` for coordinates off the Earth or a move no vehicle makes; `Offline` for a
    /// courier who is not online; `TooOften` past the courier's quota.
    pub async fn locate(
        &self,
        caller: &Caller,
        lat: f64,
        lon: f64,
        trace: TraceContext,
    ) -> Result<(), AppError> {
        courier_only(caller)?;
        let mut violations = Violations::new();
        if let Err(message) = geo::latitude(lat) {
            violations.add("lat", message);
        }
        if let Err(message) = geo::longitude(lon) {
            violations.add("lon", message);
        }
        violations.into_result(|| ())?;
        let fleet = self.fleet().await?;
        let fix = Fix {
            lat,
            lon,
            at: ordo_kernel::time::now(),
        };
        fleet
            .locate(caller.user_id, fix, self.config.max_speed_kmh, trace)
            .await?
            .map(|()| self.followers.located(caller.user_id))
            .map_err(|refused| match refused {
                Refused::Offline => AppError::Service(DeliveryError::Offline),
                Refused::TooOften(wait) => AppError::Service(DeliveryError::TooOften(wait)),
                Refused::TooFast(message) => {
                    let mut violations = Violations::new();
                    violations.add("lat", message);
                    AppError::Invalid(violations)
                }
            })
    }

    /// Writes the positions reported since the last time, and puts the fleet's busy flags
    /// back in line with the deliveries (a transaction that failed after the fleet moved
    /// on leaves them astray); how many positions were written.
    ///
    /// # Errors
    /// The database failing; the positions are written next time.
    pub async fn persist_positions(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let fleet = self.fleet().await?;
        self.load_fleet(false).await?;
        let silent = now - self.config.silent_after();
        let set_aside = fleet.set_aside_silent(silent).await?;
        if set_aside > 0 {
            tracing::info!(
                couriers = set_aside,
                "couriers not heard from are no longer offered deliveries until they report again"
            );
        }
        let dirty = fleet.take_dirty().await?;
        if !dirty.is_empty() {
            let written = async {
                let mut tx = self.db.begin().await?;
                for (id, fix, trace) in &dirty {
                    let traceparent = trace.map(|t| t.to_string());
                    store::save_position(&mut tx, *id, fix, traceparent.as_deref()).await?;
                }
                tx.commit().await
            }
            .await;
            if let Err(error) = written {
                let ids: Vec<_> = dirty.iter().map(|(id, ..)| *id).collect();
                fleet.still_dirty(&ids).await;
                return Err(error.into());
            }
        }
        let busy: HashSet<_> = store::busy_couriers(&self.db).await?.into_iter().collect();
        fleet.reconcile_busy(&busy, now).await?;
        Ok(dirty.len())
    }
}
