//! The courier fleet in Redis, shared by every delivery instance:
//! - a hash per courier (online, busy, when idle since, the last position and the anchor
//!   the next report is measured from, the trace of the report, when it was claimed);
//! - `where`, a GEO set of the online couriers with a position: what dispatch searches;
//! - `seen`, when each courier was last heard from: every courier the fleet knows, and the
//!   silent ones, which are taken out of `where`;
//! - `dirty`, the couriers whose position is not in the database yet;
//! - `loaded`, set once the fleet was loaded from the database (Redis keeps nothing on
//!   disk: when it comes back empty, the first instance to notice loads it again).
//!
//! Every change that reads before it writes is one script, so instances never interleave
//! inside one; a claim is atomic, so two instances never take one courier for two
//! deliveries. The keys share one hash tag (`{fleet}`), so the scripts also run on a Redis
//! Cluster.

use crate::app::fleet::{CLAIM_GRACE, Courier, Refused, Waiters};
use crate::domain::{Candidate, Fix, plausible, rank};
use ordo_http::ratelimit::Quota;
use ordo_kernel::time::{from_millis, to_millis};
use ordo_kernel::trace::TraceContext;
use ordo_redis::{Error, Gcra, Redis};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// The latitudes a GEO set takes (Web Mercator's); couriers beyond are filed at its edge.
const GEO_MAX_LAT: f64 = 85.051_128;
/// How many couriers one search reads beyond those it needs: some are busy or asked.
const SEARCH_SLACK: usize = 32;
/// Positions written to the database per round trip.
const DIRTY_BATCH: usize = 500;

const LOAD: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'online', ARGV[2], 'busy', ARGV[3], 'idle', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'lat', ARGV[5], 'lon', ARGV[6], 'at', ARGV[7],
    'alat', ARGV[5], 'alon', ARGV[6], 'aat', ARGV[7])
  if ARGV[2] == '1' then redis.call('GEOADD', KEYS[2], ARGV[6], ARGV[9], ARGV[1]) end
end
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
return 1
";

/// 0: unknown; 1: done; 2: online where it may be asked.
const SET_ONLINE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local state = redis.call('HMGET', KEYS[1], 'online', 'busy', 'lat', 'lon')
local online = ARGV[2] == '1'
if online and state[1] ~= '1' and state[2] ~= '1' then
  redis.call('HSET', KEYS[1], 'idle', ARGV[3])
end
redis.call('HSET', KEYS[1], 'online', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
if not online then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
if state[3] then
  local lat = math.max(-85.051128, math.min(85.051128, tonumber(state[3])))
  redis.call('GEOADD', KEYS[2], state[4], lat, ARGV[1])
  if state[2] ~= '1' then return 2 end
end
return 1
";

/// 0: offline; 1: taken; 2: taken, and the courier may be asked.
const LOCATE: &str = r"
if redis.call('HGET', KEYS[1], 'online') ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'lat', ARGV[2], 'lon', ARGV[3], 'at', ARGV[4],
  'alat', ARGV[5], 'alon', ARGV[6], 'aat', ARGV[7], 'trace', ARGV[8])
redis.call('GEOADD', KEYS[2], ARGV[3], ARGV[10], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
if redis.call('HGET', KEYS[1], 'busy') == '1' then return 1 end
return 2
";

const CLAIM: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'busy') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'busy', '1', 'claimed', ARGV[1])
return 1
";

/// Releases a busy courier; with a third argument, only one claimed before it. 0: not
/// released; 1: released; 2: released and online, so it may be asked.
const RELEASE: &str = r"
local state = redis.call('HMGET', KEYS[1], 'busy', 'claimed', 'online')
if state[1] ~= '1' then return 0 end
if ARGV[2] and state[2] and tonumber(state[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'busy', '0', 'idle', ARGV[1])
if state[3] == '1' then return 2 end
return 1
";

const MARK_BUSY: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'busy', '1')
return 1
";

pub struct RedisFleet {
    redis: Redis,
    reports: Gcra,
    quota: Quota,
    waiters: Waiters,
    scripts: Scripts,
}

struct Scripts {
    load: redis::Script,
    set_online: redis::Script,
    locate: redis::Script,
    claim: redis::Script,
    release: redis::Script,
    mark_busy: redis::Script,
}

/// A courier's hash, as read.
type Fields = HashMap<String, String>;

impl RedisFleet {
    /// The fleet under the platform's prefix in `redis`, position reports limited to
    /// `quota` per courier across every instance.
    #[must_use]
    pub fn new(redis: Redis, quota: Quota) -> Self {
        RedisFleet {
            reports: Gcra::new(redis.clone()),
            redis,
            quota,
            waiters: Waiters::default(),
            scripts: Scripts {
                load: redis::Script::new(LOAD),
                set_online: redis::Script::new(SET_ONLINE),
                locate: redis::Script::new(LOCATE),
                claim: redis::Script::new(CLAIM),
                release: redis::Script::new(RELEASE),
                mark_busy: redis::Script::new(MARK_BUSY),
            },
        }
    }

    #[must_use]
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    fn courier_key(&self, id: Uuid) -> String {
        self.redis.key(&format!("{{fleet}}:courier:{id}"))
    }

    fn key(&self, name: &str) -> String {
        self.redis.key(&format!("{{fleet}}:{name}"))
    }

    /// True once for each time the fleet is missing from Redis: the caller loads it.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn needs_loading(&self) -> Result<bool, Error> {
        let key = self.key("loaded");
        let set: Option<String> = self
            .redis
            .query(redis::cmd("SET").arg(key).arg("1").arg("NX"))
            .await?;
        Ok(set.is_some())
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn load(&self, id: Uuid, courier: &Courier) -> Result<(), Error> {
        let mut invocation = self.scripts.load.prepare_invoke();
        invocation
            .key(self.courier_key(id))
            .key(self.key("where"))
            .key(self.key("seen"))
            .arg(id.to_string())
            .arg(flag(courier.online))
            .arg(flag(courier.busy))
            .arg(to_millis(courier.idle_since));
        match courier.fix {
            Some(fix) => invocation
                .arg(fix.lat)
                .arg(fix.lon)
                .arg(to_millis(fix.at))
                .arg(to_millis(ordo_kernel::time::now()))
                .arg(geo_lat(fix.lat)),
            None => invocation
                .arg("")
                .arg("")
                .arg("")
                .arg(to_millis(ordo_kernel::time::now()))
                .arg(""),
        };
        let _: i64 = self.redis.invoke(invocation).await?;
        Ok(())
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn get(&self, id: Uuid) -> Result<Option<Courier>, Error> {
        let key = self.courier_key(id);
        let fields: Fields = self.redis.query(redis::cmd("HGETALL").arg(key)).await?;
        Ok(courier_of(&fields))
    }

    /// Every courier the fleet knows, as it is now.
    async fn all(&self) -> Result<Vec<(Uuid, Fields)>, Error> {
        let seen = self.key("seen");
        let ids: Vec<String> = self
            .redis
            .query(redis::cmd("ZRANGE").arg(seen).arg(0).arg(-1))
            .await?;
        let ids: Vec<Uuid> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HGETALL").arg(self.courier_key(*id));
        }
        let all: Vec<Fields> = self.redis.pipeline(pipe).await?;
        Ok(ids.into_iter().zip(all).collect())
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn working(&self) -> Result<Vec<(Uuid, Courier)>, Error> {
        Ok(self
            .all()
            .await?
            .into_iter()
            .filter_map(|(id, fields)| courier_of(&fields).map(|c| (id, c)))
            .filter(|(_, c)| c.online || c.busy)
            .collect())
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn set_online(
        &self,
        id: Uuid,
        online: bool,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let mut invocation = self.scripts.set_online.prepare_invoke();
        invocation
            .key(self.courier_key(id))
            .key(self.key("where"))
            .key(self.key("seen"))
            .arg(id.to_string())
            .arg(flag(online))
            .arg(to_millis(now));
        let done: i64 = self.redis.invoke(invocation).await?;
        self.waiters.may_be_asked(done == 2);
        Ok(done > 0)
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn locate(
        &self,
        id: Uuid,
        fix: Fix,
        max_speed_kmh: f64,
        trace: TraceContext,
    ) -> Result<Result<(), Refused>, Error> {
        let key = self.courier_key(id);
        let read = key.clone();
        let state: (Option<String>, Option<f64>, Option<f64>, Option<i64>) = self
            .redis
            .query(
                redis::cmd("HMGET")
                    .arg(read)
                    .arg(&["online", "alat", "alon", "aat"]),
            )
            .await?;
        let (online, alat, alon, aat) = state;
        if online.as_deref() != Some("1") {
            return Ok(Err(Refused::Offline));
        }
        let anchor = match (alat, alon, aat) {
            (Some(lat), Some(lon), Some(at)) => Some(Fix {
                lat,
                lon,
                at: from_millis(at),
            }),
            _ => None,
        };
        let anchor = match plausible(anchor, fix, max_speed_kmh) {
            Ok(anchor) => anchor,
            Err(message) => return Ok(Err(Refused::TooFast(message))),
        };
        if let Err(wait) = self
            .reports
            .take(&format!("{{fleet}}:reports:{id}"), self.quota)
            .await?
        {
            return Ok(Err(Refused::TooOften(wait)));
        }
        let mut invocation = self.scripts.locate.prepare_invoke();
        invocation
            .key(key)
            .key(self.key("where"))
            .key(self.key("seen"))
            .key(self.key("dirty"))
            .arg(id.to_string())
            .arg(fix.lat)
            .arg(fix.lon)
            .arg(to_millis(fix.at))
            .arg(anchor.lat)
            .arg(anchor.lon)
            .arg(to_millis(anchor.at))
            .arg(trace.to_string())
            .arg(to_millis(fix.at))
            .arg(geo_lat(fix.lat));
        let done: i64 = self.redis.invoke(invocation).await?;
        if done == 0 {
            return Ok(Err(Refused::Offline));
        }
        self.waiters.may_be_asked(done == 2);
        Ok(Ok(()))
    }

    /// Releases a busy courier; with `claimed_before`, only one claimed before it (or never).
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn release(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        claimed_before: Option<OffsetDateTime>,
    ) -> Result<(), Error> {
        let mut invocation = self.scripts.release.prepare_invoke();
        invocation.key(self.courier_key(id)).arg(to_millis(now));
        if let Some(before) = claimed_before {
            invocation.arg(to_millis(before));
        }
        let done: i64 = self.redis.invoke(invocation).await?;
        self.waiters.may_be_asked(done == 2);
        Ok(())
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn claim(&self, id: Uuid, now: OffsetDateTime) -> Result<bool, Error> {
        let mut invocation = self.scripts.claim.prepare_invoke();
        invocation.key(self.courier_key(id)).arg(to_millis(now));
        let taken: i64 = self.redis.invoke(invocation).await?;
        Ok(taken == 1)
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn reconcile_busy(
        &self,
        busy: &HashSet<Uuid>,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        for (id, fields) in self.all().await? {
            let flagged = fields.get("busy").is_some_and(|b| b == "1");
            if busy.contains(&id) && !flagged {
                let mut invocation = self.scripts.mark_busy.prepare_invoke();
                invocation.key(self.courier_key(id));
                let _: i64 = self.redis.invoke(invocation).await?;
            } else if !busy.contains(&id) && flagged {
                self.release(id, now, Some(now - CLAIM_GRACE)).await?;
            }
        }
        Ok(())
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn take_dirty(&self) -> Result<Vec<(Uuid, Fix, Option<TraceContext>)>, Error> {
        let mut taken = Vec::new();
        loop {
            let dirty = self.key("dirty");
            let ids: Vec<String> = self
                .redis
                .query(redis::cmd("SPOP").arg(dirty).arg(DIRTY_BATCH))
                .await?;
            let ids: Vec<Uuid> = ids.iter().filter_map(|id| id.parse().ok()).collect();
            if ids.is_empty() {
                return Ok(taken);
            }
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("HMGET")
                    .arg(self.courier_key(*id))
                    .arg(&["lat", "lon", "at", "trace"]);
            }
            type Position = (Option<f64>, Option<f64>, Option<i64>, Option<String>);
            let positions: Vec<Position> = self.redis.pipeline(pipe).await?;
            let batch = ids.len();
            taken.extend(ids.into_iter().zip(positions).filter_map(
                |(id, (lat, lon, at, trace))| match (lat, lon, at) {
                    (Some(lat), Some(lon), Some(at)) => Some((
                        id,
                        Fix {
                            lat,
                            lon,
                            at: from_millis(at),
                        },
                        trace.as_deref().and_then(TraceContext::parse),
                    )),
                    _ => None,
                },
            ));
            if batch < DIRTY_BATCH {
                return Ok(taken);
            }
        }
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn still_dirty(&self, ids: &[Uuid]) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let dirty = self.key("dirty");
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        self.redis
            .query(redis::cmd("SADD").arg(dirty).arg(ids))
            .await
    }

    /// Takes the couriers not heard from since `before` out of the search; how many.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn set_aside_silent(&self, before: OffsetDateTime) -> Result<usize, Error> {
        let (seen, place) = (self.key("seen"), self.key("where"));
        let silent: Vec<String> = self
            .redis
            .query(
                redis::cmd("ZRANGE")
                    .arg(seen)
                    .arg("-inf")
                    .arg(format!("({}", to_millis(before)))
                    .arg("BYSCORE"),
            )
            .await?;
        if silent.is_empty() {
            return Ok(0);
        }
        let removed: usize = self
            .redis
            .query(redis::cmd("ZREM").arg(place).arg(silent))
            .await?;
        Ok(removed)
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn candidates(
        &self,
        at: (f64, f64),
        radius_km: f64,
        except: &HashSet<Uuid>,
        limit: usize,
    ) -> Result<Vec<Candidate>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let place = self.key("where");
        let count = limit + except.len() + SEARCH_SLACK;
        let near: Vec<String> = self
            .redis
            .query(
                redis::cmd("GEOSEARCH")
                    .arg(place)
                    .arg("FROMLONLAT")
                    .arg(at.1)
                    .arg(geo_lat(at.0))
                    .arg("BYRADIUS")
                    .arg(radius_km)
                    .arg("km")
                    .arg("ASC")
                    .arg("COUNT")
                    .arg(count),
            )
            .await?;
        let ids: Vec<Uuid> = near
            .iter()
            .filter_map(|id| id.parse().ok())
            .filter(|id| !except.contains(id))
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HGETALL").arg(self.courier_key(*id));
        }
        let states: Vec<Fields> = self.redis.pipeline(pipe).await?;
        let found = ids
            .into_iter()
            .zip(states)
            .filter_map(|(id, fields)| {
                let courier = courier_of(&fields)?;
                let fix = courier.fix.filter(|_| courier.online && !courier.busy)?;
                let distance_km = ordo_kernel::geo::distance_km(at, (fix.lat, fix.lon));
                (distance_km <= radius_km).then_some(Candidate {
                    courier_id: id,
                    distance_km,
                    idle_since: courier.idle_since,
                })
            })
            .collect();
        let mut ranked = rank(found);
        ranked.truncate(limit);
        Ok(ranked)
    }
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

fn geo_lat(lat: f64) -> f64 {
    lat.clamp(-GEO_MAX_LAT, GEO_MAX_LAT)
}

/// A courier from its hash; `None` for one the fleet does not know.
fn courier_of(fields: &Fields) -> Option<Courier> {
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<f64>().ok());
    let millis = |name: &str| fields.get(name).and_then(|v| v.parse::<i64>().ok());
    let online = fields.get("online")?;
    let fix = match (number("lat"), number("lon"), millis("at")) {
        (Some(lat), Some(lon), Some(at)) => Some(Fix {
            lat,
            lon,
            at: from_millis(at),
        }),
        _ => None,
    };
    Some(Courier {
        online: online == "1",
        fix,
        busy: fields.get("busy").is_some_and(|b| b == "1"),
        idle_since: millis("idle").map_or(OffsetDateTime::UNIX_EPOCH, from_millis),
    })
}
