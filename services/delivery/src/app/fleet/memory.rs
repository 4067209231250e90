//! The fleet in one process's memory, indexed by H3 cell: a report costs a lock and a hash
//! lookup.

use super::{CLAIM_GRACE, Courier, Refused, Waiters, cell_at};
use crate::domain::{Candidate, Fix, plausible, rank};
use h3o::{CellIndex, Resolution};
use ordo_http::ratelimit::{KeyedLimiter, Quota};
use ordo_kernel::trace::TraceContext;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug)]
struct Entry {
    courier: Courier,
    /// The cell it is indexed under: online, with a position.
    cell: Option<CellIndex>,
    /// Where its next report is measured from (see [`plausible`]).
    anchor: Option<Fix>,
    /// Its position changed since it was last written.
    dirty: bool,
    /// The trace of the report that last moved it, written with its position.
    reported_in: Option<TraceContext>,
    /// When it was last taken for a delivery.
    claimed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Default)]
struct Index {
    couriers: HashMap<Uuid, Entry>,
    cells: HashMap<CellIndex, HashSet<Uuid>>,
}

impl Index {
    /// Files the courier under the cell its state calls for; true when that is a new one
    /// (it came online, or moved into another cell).
    fn refile(&mut self, id: Uuid, resolution: Resolution) -> bool {
        let Some(entry) = self.couriers.get_mut(&id) else {
            return false;
        };
        let cell = match (entry.courier.online, entry.courier.fix) {
            (true, Some(fix)) => cell_at(fix.lat, fix.lon, resolution),
            _ => None,
        };
        if cell == entry.cell {
            return false;
        }
        if let Some(old) = entry.cell.take()
            && let Some(members) = self.cells.get_mut(&old)
        {
            members.remove(&id);
            if members.is_empty() {
                self.cells.remove(&old);
            }
        }
        if let Some(new) = cell {
            self.cells.entry(new).or_default().insert(id);
        }
        entry.cell = cell;
        cell.is_some()
    }
}

pub struct Fleet {
    resolution: Resolution,
    index: Mutex<Index>,
    reports: KeyedLimiter<Uuid>,
    waiters: Waiters,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("resolution", &self.resolution)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    #[must_use]
    pub fn new(resolution: Resolution, reports: Quota, waiters: Waiters) -> Self {
        Fleet {
            resolution,
            index: Mutex::new(Index::default()),
            reports: KeyedLimiter::new(reports),
            waiters,
        }
    }

    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    fn may_be_asked(&self, courier: &Courier) {
        self.waiters.may_be_asked(courier.online && !courier.busy);
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        // A panic while holding the lock leaves plain data behind; go on with it.
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts a courier in the fleet as stored (at start, or when first seen).
    pub fn load(&self, id: Uuid, courier: Courier) {
        let mut index = self.index();
        index.couriers.insert(
            id,
            Entry {
                courier,
                cell: None,
                anchor: courier.fix,
                dirty: false,
                reported_in: None,
                claimed_at: None,
            },
        );
        index.refile(id, self.resolution);
    }

    #[must_use]
    pub fn get(&self, id: Uuid) -> Option<Courier> {
        self.index().couriers.get(&id).map(|e| e.courier)
    }

    /// The couriers who are online or carrying a delivery, as they are now.
    #[must_use]
    pub fn working(&self) -> Vec<(Uuid, Courier)> {
        self.index()
            .couriers
            .iter()
            .filter(|(_, e)| e.courier.online || e.courier.busy)
            .map(|(id, e)| (*id, e.courier))
            .collect()
    }

    /// Online or offline; false when the fleet does not know the courier yet.
    pub fn set_online(&self, id: Uuid, online: bool, now: OffsetDateTime) -> bool {
        let mut index = self.index();
        let Some(entry) = index.couriers.get_mut(&id) else {
            return false;
        };
        if online && !entry.courier.online && !entry.courier.busy {
            entry.courier.idle_since = now;
        }
        entry.courier.online = online;
        let courier = entry.courier;
        if index.refile(id, self.resolution) {
            self.may_be_asked(&courier);
        }
        true
    }

    /// Takes a position report made in `trace`: online couriers only, at most as often as
    /// the quota allows, and only where a vehicle could have got to (see [`plausible`]).
    ///
    /// # Errors
    /// Why the report was refused; nothing changed.
    pub fn locate(
        &self,
        id: Uuid,
        lat: f64,
        lon: f64,
        now: OffsetDateTime,
        max_speed_kmh: f64,
        trace: TraceContext,
    ) -> Result<(), Refused> {
        let mut index = self.index();
        let Some(entry) = index.couriers.get_mut(&id).filter(|e| e.courier.online) else {
            return Err(Refused::Offline);
        };
        let fix = Fix { lat, lon, at: now };
        let anchor = plausible(entry.anchor, fix, max_speed_kmh).map_err(Refused::TooFast)?;
        self.reports.check(&id).map_err(Refused::TooOften)?;
        entry.anchor = Some(anchor);
        entry.courier.fix = Some(fix);
        entry.dirty = true;
        entry.reported_in = Some(trace);
        let courier = entry.courier;
        if index.refile(id, self.resolution) {
            self.may_be_asked(&courier);
        }
        Ok(())
    }

    /// Idle again, waiting from `now`: its delivery ended, or taking it failed.
    pub fn release(&self, id: Uuid, now: OffsetDateTime) {
        let mut index = self.index();
        if let Some(entry) = index.couriers.get_mut(&id)
            && entry.courier.busy
        {
            entry.courier.busy = false;
            entry.courier.idle_since = now;
            self.may_be_asked(&entry.courier);
        }
    }

    /// Takes an idle courier for a delivery; false when it is busy already (or unknown).
    pub fn claim(&self, id: Uuid, now: OffsetDateTime) -> bool {
        let mut index = self.index();
        match index.couriers.get_mut(&id) {
            Some(entry) if !entry.courier.busy => {
                entry.courier.busy = true;
                entry.claimed_at = Some(now);
                true
            }
            _ => false,
        }
    }

    /// Puts the busy flags in line with `busy`, the couriers the database says carry a
    /// delivery; one taken moments ago keeps its flag while its transaction finishes.
    pub fn reconcile_busy(&self, busy: &HashSet<Uuid>, now: OffsetDateTime) {
        let mut index = self.index();
        for (id, entry) in &mut index.couriers {
            if busy.contains(id) {
                entry.courier.busy = true;
            } else if entry.courier.busy && entry.claimed_at.is_none_or(|at| at + CLAIM_GRACE < now)
            {
                entry.courier.busy = false;
                entry.courier.idle_since = now;
                self.may_be_asked(&entry.courier);
            }
        }
    }

    /// The positions reported since the last call, each with the trace of its report.
    pub fn take_dirty(&self) -> Vec<(Uuid, Fix, Option<TraceContext>)> {
        let mut index = self.index();
        index
            .couriers
            .iter_mut()
            .filter(|(_, e)| e.dirty)
            .filter_map(|(id, e)| {
                e.dirty = false;
                e.courier.fix.map(|fix| (*id, fix, e.reported_in))
            })
            .collect()
    }

    /// Marks positions as not written after all (the write failed).
    pub fn still_dirty(&self, ids: &[Uuid]) {
        let mut index = self.index();
        for id in ids {
            if let Some(entry) = index.couriers.get_mut(id) {
                entry.dirty = true;
            }
        }
    }

    /// Up to `limit` online, idle couriers within `radius_km` of `at`, not in `except`,
    /// in the order they are to be asked. The search widens ring by ring of cells from
    /// the one `at` is in, and goes one ring past the first that holds anyone: a courier
    /// across a cell border may be nearer than one at the far side of a nearer cell.
    #[must_use]
    pub fn candidates(
        &self,
        at: (f64, f64),
        radius_km: f64,
        except: &HashSet<Uuid>,
        limit: usize,
    ) -> Vec<Candidate> {
        let Some(origin) = cell_at(at.0, at.1, self.resolution) else {
            return Vec::new();
        };
        // Neighbouring cell centres are about 1.7 edges apart; a ring k holds nothing
        // nearer than about 1.5 k edges.
        let last_ring = (radius_km / (1.5 * self.resolution.edge_length_km())).ceil() as u32 + 1;
        let index = self.index();
        let mut found = Vec::new();
        let mut stop_after = last_ring;
        for k in 0..=last_ring {
            if k > stop_after {
                break;
            }
            for cell in origin.grid_ring::<Vec<_>>(k) {
                let Some(members) = index.cells.get(&cell) else {
                    continue;
                };
                for id in members.iter().filter(|id| !except.contains(id)) {
                    let Some(entry) = index.couriers.get(id) else {
                        continue;
                    };
                    let (courier, Some(fix)) = (entry.courier, entry.courier.fix) else {
                        continue;
                    };
                    if !courier.online || courier.busy {
                        continue;
                    }
                    let distance_km = ordo_kernel::geo::distance_km(at, (fix.lat, fix.lon));
                    if distance_km <= radius_km {
                        found.push(Candidate {
                            courier_id: *id,
                            distance_km,
                            idle_since: courier.idle_since,
                        });
                    }
                }
            }
            if found.len() >= limit && stop_after == last_ring {
                stop_after = k + 1;
            }
        }
        let mut ranked = rank(found);
        ranked.truncate(limit);
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    const MERCHANT: (f64, f64) = (52.5200, 13.4050);

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000)
    }

    fn fleet() -> Fleet {
        Fleet::new(Resolution::Eight, Quota::new(120, 5), Waiters::default())
    }

    fn online_at(fleet: &Fleet, n: u128, lat: f64, lon: f64) -> Uuid {
        let id = Uuid::from_u128(n);
        fleet.load(
            id,
            Courier {
                online: true,
                fix: Some(Fix {
                    lat,
                    lon,
                    at: now(),
                }),
                busy: false,
                idle_since: now(),
            },
        );
        id
    }

    #[test]
    fn the_nearest_idle_online_couriers_in_range_are_found() {
        let fleet = fleet();
        let near = online_at(&fleet, 1, 52.5210, 13.4050);
        let farther = online_at(&fleet, 2, 52.5400, 13.4050);
        let out_of_range = online_at(&fleet, 3, 52.7000, 13.4050);
        let busy = online_at(&fleet, 4, 52.5201, 13.4050);
        assert!(fleet.claim(busy, now()));
        assert!(!fleet.claim(busy, now()));
        let offline = online_at(&fleet, 5, 52.5202, 13.4050);
        fleet.set_online(offline, false, now());
        let found = fleet.candidates(MERCHANT, 8.0, &HashSet::new(), 10);
        let ids: Vec<Uuid> = found.iter().map(|c| c.courier_id).collect();
        assert_eq!(ids, vec![near, farther]);
        assert!(!ids.contains(&out_of_range));
        let except = HashSet::from([near]);
        let found = fleet.candidates(MERCHANT, 8.0, &except, 10);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].courier_id, farther);
    }

    #[test]
    fn moving_refiles_the_courier_and_offline_ones_report_nothing() {
        let waiters = Waiters::default();
        let fleet = Fleet::new(Resolution::Eight, Quota::new(120, 5), waiters.clone());
        waiters.set_wanted(true);
        let free = waiters.free();
        let id = online_at(&fleet, 1, 52.7000, 13.4050);
        assert!(
            fleet
                .candidates(MERCHANT, 8.0, &HashSet::new(), 1)
                .is_empty()
        );
        let later = now() + time::Duration::minutes(30);
        assert!(free.notified().now_or_never().is_none(), "nobody moved yet");
        assert_eq!(
            fleet.locate(id, 52.5205, 13.4050, later, 150.0, TraceContext::new_root()),
            Ok(())
        );
        assert!(
            free.notified().now_or_never().is_some(),
            "a courier in a new cell may be asked"
        );
        assert_eq!(fleet.candidates(MERCHANT, 8.0, &HashSet::new(), 1).len(), 1);
        assert_eq!(fleet.take_dirty().len(), 1);
        assert!(fleet.take_dirty().is_empty());
        fleet.set_online(id, false, later);
        assert_eq!(
            fleet.locate(id, 52.5205, 13.4050, later, 150.0, TraceContext::new_root()),
            Err(Refused::Offline)
        );
        assert!(
            fleet
                .candidates(MERCHANT, 8.0, &HashSet::new(), 1)
                .is_empty()
        );
    }

    #[test]
    fn an_impossible_jump_and_a_flood_are_refused() {
        let fleet = fleet();
        let id = online_at(&fleet, 1, 52.5200, 13.4050);
        let soon = now() + time::Duration::seconds(10);
        assert!(matches!(
            fleet.locate(id, 53.5, 10.0, soon, 150.0, TraceContext::new_root()),
            Err(Refused::TooFast(_))
        ));
        let refused = (0..20)
            .map(|_| fleet.locate(id, 52.5200, 13.4050, soon, 150.0, TraceContext::new_root()))
            .filter(|r| matches!(r, Err(Refused::TooOften(_))))
            .count();
        assert!(refused >= 14, "{refused}");
    }
}
