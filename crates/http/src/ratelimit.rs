//! Rate limiting with GCRA (`governor`): per caller on authenticated requests, per client IP
//! on anonymous ones and on those whose token did not verify, each role with its own quota.
//! Limiters are in memory, per process.

use crate::extract::ClientIp;
use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};
use ordo_kernel::Caller;
use ordo_kernel::Role;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// A sustained rate and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    #[must_use]
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Quota { per_minute, burst }
    }

    /// # Errors
    /// When either number is zero.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.per_minute == 0 || self.burst == 0 {
            Err("per_minute and burst must be at least 1")
        } else {
            Ok(())
        }
    }

    fn to_governor(self) -> governor::Quota {
        let rate = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        governor::Quota::per_minute(rate).allow_burst(burst)
    }
}

/// One GCRA limiter keyed by `K`.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for KeyedLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    #[must_use]
    pub fn new(quota: Quota) -> Self {
        KeyedLimiter {
            limiter: RateLimiter::keyed(quota.to_governor()),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one cell for `key`, or says how long to wait.
    ///
    /// # Errors
    /// The wait before the next request for `key` would be allowed.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys whose state is back to full, so memory follows active clients only.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

/// The gateway's limits: a quota per role for callers, one for anonymous clients by IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub anonymous: Quota,
    pub customer: Quota,
    pub merchant: Quota,
    pub courier: Quota,
    pub admin: Quota,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            anonymous: Quota::new(300, 60),
            customer: Quota::new(600, 120),
            merchant: Quota::new(1200, 240),
            courier: Quota::new(1200, 240),
            admin: Quota::new(3000, 600),
        }
    }
}

impl RateLimitConfig {
    #[must_use]
    pub fn quota(&self, role: Role) -> Quota {
        match role {
            Role::Customer => self.customer,
            Role::Merchant => self.merchant,
            Role::Courier => self.courier,
            Role::Admin => self.admin,
        }
    }
}

pub struct RateLimits {
    enabled: bool,
    anonymous: KeyedLimiter<IpAddr>,
    by_role: HashMap<Role, KeyedLimiter<Uuid>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    #[must_use]
    pub fn new(config: &RateLimitConfig) -> Self {
        RateLimits {
            enabled: config.enabled,
            anonymous: KeyedLimiter::new(config.anonymous),
            by_role: Role::ALL
                .into_iter()
                .map(|role| (role, KeyedLimiter::new(config.quota(role))))
                .collect(),
        }
    }

    /// # Errors
    /// The wait before this client may call again.
    pub fn check(&self, caller: Option<&Caller>, ip: IpAddr) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        match caller.and_then(|c| self.by_role.get(&c.role).map(|l| (l, c))) {
            Some((limiter, caller)) => limiter.check(&caller.user_id),
            None => self.anonymous.check(&ip),
        }
    }

    pub fn forget_idle(&self) {
        self.anonymous.forget_idle();
        for limiter in self.by_role.values() {
            limiter.forget_idle();
        }
    }
}

/// Middleware, after the caller is identified and before an invalid token is refused: 429
/// with `Retry-After` when the client is over quota. A request whose token did not verify
/// counts against its address, as an anonymous one. Every route is limited, probes and
/// metrics too: they are cheap to answer, but a client may not call them without end. The
/// exceptions are what a page loads by the dozen and a browser keeps for good: the apps'
/// files, and pictures (`GET /api/v1/images/…`, which `<img>` asks for without a token, so
/// that they would all count against the address, and one list of merchants would spend
/// its burst).
pub async fn limit(
    State(limits): State<Arc<RateLimits>>,
    ClientIp(ip): ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let picture = request.method() == Method::GET && path.starts_with("/api/v1/images/");
    if path.starts_with("/assets/") || picture {
        return next.run(request).await;
    }
    match limits.check(request.extensions().get::<Caller>(), ip) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            metrics::counter!("http_rate_limited_total").increment(1);
            Problem::rate_limited(wait).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_quota_is_refused_with_a_wait() {
        let limiter = KeyedLimiter::new(Quota::new(60, 3));
        for _ in 0..3 {
            assert!(limiter.check(&"a").is_ok());
        }
        let wait = limiter.check(&"a").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limiter.check(&"b").is_ok(), "keys are independent");
    }
}
