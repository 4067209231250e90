//! Rate limiting with GCRA: per caller on authenticated requests, per client IP on
//! anonymous ones and on those whose token did not verify, each role with its own quota.
//! One process keeps its limiters in memory (`governor`). Processes behind one address (the
//! gateways of a scale-out platform) share one limiter per key ([`SharedLimiter`], on Redis),
//! and fall back to their own while it cannot be reached: a limiter outage must not take the
//! API down.

use crate::extract::ClientIp;
use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
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
use std::sync::atomic::{AtomicBool, Ordering};
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

    /// The time one request takes from the allowance: the sustained rate's interval.
    #[must_use]
    pub fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
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

/// The shared limiter could not be asked (its store is unreachable or refused).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the shared rate limiter is unavailable: {0}")]
pub struct LimiterUnavailable(pub String);

/// What one shared check found: allowed, or refused with the wait before the next request.
pub type Verdict = Result<(), Duration>;

/// One GCRA per key that every process shares, so that a client's quota is the same
/// however many gateways its requests are spread over.
pub trait SharedLimiter: Send + Sync + 'static {
    /// Takes one request for `key` from `quota`.
    ///
    /// # Errors
    /// The shared store cannot be asked; the caller limits locally instead.
    fn check<'a>(
        &'a self,
        key: &'a str,
        quota: Quota,
    ) -> BoxFuture<'a, Result<Verdict, LimiterUnavailable>>;
}

pub struct RateLimits {
    config: RateLimitConfig,
    anonymous: KeyedLimiter<IpAddr>,
    by_role: HashMap<Role, KeyedLimiter<Uuid>>,
    shared: Option<Arc<dyn SharedLimiter>>,
    /// The last shared check failed: limits are this process's own until one succeeds.
    local_only: AtomicBool,
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
            config: config.clone(),
            anonymous: KeyedLimiter::new(config.anonymous),
            by_role: Role::ALL
                .into_iter()
                .map(|role| (role, KeyedLimiter::new(config.quota(role))))
                .collect(),
            shared: None,
            local_only: AtomicBool::new(false),
        }
    }

    /// Limits shared with every other process asking `limiter`, this process's own while
    /// it cannot be asked.
    #[must_use]
    pub fn shared(config: &RateLimitConfig, limiter: Arc<dyn SharedLimiter>) -> Self {
        RateLimits {
            shared: Some(limiter),
            ..RateLimits::new(config)
        }
    }

    /// Whether limits are shared with other processes (while the shared limiter answers).
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Whether the shared limiter failed at its last check, so limits are per process.
    #[must_use]
    pub fn local_only(&self) -> bool {
        self.local_only.load(Ordering::Relaxed)
    }

    /// # Errors
    /// The wait before this client may call again.
    pub async fn check(&self, caller: Option<&Caller>, ip: IpAddr) -> Result<(), Duration> {
        if !self.config.enabled {
            return Ok(());
        }
        if let Some(shared) = &self.shared {
            let (key, quota) = match caller {
                Some(c) => (
                    format!("rl:{}:{}", c.role, c.user_id),
                    self.config.quota(c.role),
                ),
                None => (format!("rl:ip:{ip}"), self.config.anonymous),
            };
            match shared.check(&key, quota).await {
                Ok(verdict) => {
                    if self.local_only.swap(false, Ordering::Relaxed) {
                        tracing::info!("the shared rate limiter answers again");
                        metrics::gauge!("rate_limit_local_only").set(0.0);
                    }
                    return verdict;
                }
                Err(error) => {
                    if !self.local_only.swap(true, Ordering::Relaxed) {
                        tracing::warn!(%error, "rate limits are this process's own until the shared limiter answers");
                        metrics::gauge!("rate_limit_local_only").set(1.0);
                    }
                    metrics::counter!("rate_limit_local_checks_total").increment(1);
                }
            }
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
    match limits.check(request.extensions().get::<Caller>(), ip).await {
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
