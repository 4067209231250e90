//! Login and password-reset throttling. Guessing is limited per (account, client address) pair, so that
//! attempts from one address never lock the account's owner out from another. A higher
//! ceiling per account bounds guessing spread over many addresses, a quota per address
//! bounds one address trying many accounts, and a pair that keeps failing waits longer
//! after each failure past its burst (doubling from one second to fifteen minutes) until
//! it logs in or stays quiet for half an hour.

use crate::config::IdentityConfig;
use ordo_http::ratelimit::KeyedLimiter;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);
/// Failures of a pair quiet this long are forgotten.
const BACKOFF_FORGET: Duration = Duration::from_secs(30 * 60);

type Pair = (String, IpAddr);

pub struct LoginThrottle {
    per_ip: KeyedLimiter<IpAddr>,
    per_pair: KeyedLimiter<Pair>,
    per_account: KeyedLimiter<String>,
    backoff: Backoff,
}

impl LoginThrottle {
    #[must_use]
    pub fn new(config: &IdentityConfig) -> Self {
        LoginThrottle {
            per_ip: KeyedLimiter::new(config.login_per_ip),
            per_pair: KeyedLimiter::new(config.login_per_account_and_ip),
            per_account: KeyedLimiter::new(config.login_per_account),
            backoff: Backoff::new(config.login_per_account_and_ip.burst),
        }
    }

    /// Counts a login attempt for `account` (the normalised email) from `client`.
    ///
    /// # Errors
    /// How long to wait, when a quota is spent or the pair is backing off.
    pub fn attempt(&self, account: &str, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let pair = (account.to_owned(), client);
        if let Some(wait) = self.backoff.wait(&pair, now) {
            return Err(wait);
        }
        // The pair before the account: attempts refused for one address never spend the
        // ceiling that the account's owner shares from everywhere else.
        self.per_ip.check(&client)?;
        self.per_pair.check(&pair)?;
        self.per_account.check(&pair.0)
    }

    pub fn failed(&self, account: &str, client: IpAddr, now: Instant) {
        self.backoff.failed((account.to_owned(), client), now);
    }

    pub fn succeeded(&self, account: &str, client: IpAddr) {
        self.backoff.succeeded(&(account.to_owned(), client));
    }

    /// Forgets state that no longer limits anyone, so memory follows active clients only.
    pub fn forget_idle(&self, now: Instant) {
        self.per_ip.forget_idle();
        self.per_pair.forget_idle();
        self.per_account.forget_idle();
        self.backoff.forget_idle(now);
    }
}

/// Password-reset requests, limited per client IP and per email address (known or not, so
/// that the limit says nothing of which addresses have accounts): every request may send
/// an email, and one address must not be flooded with them.
pub struct ResetThrottle {
    per_ip: KeyedLimiter<IpAddr>,
    per_account: KeyedLimiter<String>,
}

impl ResetThrottle {
    #[must_use]
    pub fn new(config: &IdentityConfig) -> Self {
        ResetThrottle {
            per_ip: KeyedLimiter::new(config.reset_per_ip),
            per_account: KeyedLimiter::new(config.reset_per_account),
        }
    }

    /// Counts a request for `account` (the normalised email) from `client`.
    ///
    /// # Errors
    /// How long to wait, when a quota is spent.
    pub fn attempt(&self, account: &str, client: IpAddr) -> Result<(), Duration> {
        // The client's before the address's: a client over its quota spends nobody's links.
        self.per_ip.check(&client)?;
        self.per_account.check(&account.to_owned())
    }

    pub fn forget_idle(&self) {
        self.per_ip.forget_idle();
        self.per_account.forget_idle();
    }
}

/// Consecutive failures of one pair and when the last one was.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

struct Backoff {
    /// Failures in a row before any wait: the pair's burst.
    free: u32,
    pairs: Mutex<HashMap<Pair, Failures>>,
}

impl Backoff {
    fn new(free: u32) -> Self {
        Backoff {
            free,
            pairs: Mutex::new(HashMap::new()),
        }
    }

    fn pairs(&self) -> std::sync::MutexGuard<'_, HashMap<Pair, Failures>> {
        self.pairs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wait(&self, pair: &Pair, now: Instant) -> Option<Duration> {
        let failures = *self.pairs().get(pair)?;
        let past_free = failures.count.checked_sub(self.free)?.checked_sub(1)?;
        if now.saturating_duration_since(failures.last) >= BACKOFF_FORGET {
            return None;
        }
        let delay = BACKOFF_FIRST
            .saturating_mul(2_u32.saturating_pow(past_free))
            .min(BACKOFF_MAX);
        (failures.last + delay)
            .checked_duration_since(now)
            .filter(|wait| !wait.is_zero())
    }

    fn failed(&self, pair: Pair, now: Instant) {
        let mut pairs = self.pairs();
        let failures = pairs.entry(pair).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(failures.last) >= BACKOFF_FORGET {
            failures.count = 0;
        }
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
    }

    fn succeeded(&self, pair: &Pair) {
        self.pairs().remove(pair);
    }

    fn forget_idle(&self, now: Instant) {
        self.pairs()
            .retain(|_, failures| now.saturating_duration_since(failures.last) < BACKOFF_FORGET);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordo_http::ratelimit::Quota;

    /// Quotas of one a minute: nothing refills while a test runs.
    fn throttle() -> LoginThrottle {
        LoginThrottle::new(&IdentityConfig {
            login_per_account_and_ip: Quota::new(1, 3),
            login_per_account: Quota::new(1, 6),
            login_per_ip: Quota::new(1, 10),
            ..IdentityConfig::default()
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn one_address_spends_its_pair_not_the_account() {
        let throttle = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            throttle.attempt("ada", ip(1), now).unwrap();
        }
        assert!(throttle.attempt("ada", ip(1), now).is_err());
        assert!(throttle.attempt("ada", ip(1), now).is_err());
        throttle.attempt("ada", ip(2), now).unwrap();
        throttle.attempt("bob", ip(1), now).unwrap();
    }

    #[test]
    fn the_account_ceiling_holds_across_addresses() {
        let throttle = throttle();
        let now = Instant::now();
        for last in 1..=6 {
            throttle.attempt("ada", ip(last), now).unwrap();
        }
        assert!(throttle.attempt("ada", ip(7), now).is_err());
        throttle.attempt("bob", ip(7), now).unwrap();
    }

    #[test]
    fn the_address_quota_holds_across_accounts() {
        let throttle = throttle();
        let now = Instant::now();
        for n in 0..10 {
            throttle.attempt(&format!("user{n}"), ip(1), now).unwrap();
        }
        assert!(throttle.attempt("user10", ip(1), now).is_err());
        throttle.attempt("user10", ip(2), now).unwrap();
    }

    #[test]
    fn failures_past_the_burst_double_the_wait_until_a_login() {
        let backoff = Backoff::new(3);
        let pair = ("ada".to_owned(), ip(1));
        let start = Instant::now();
        for n in 0..3 {
            backoff.failed(pair.clone(), start + Duration::from_secs(n));
            assert_eq!(backoff.wait(&pair, start + Duration::from_secs(n)), None);
        }
        let mut at = start + Duration::from_secs(10);
        for expected in [1, 2, 4, 8] {
            backoff.failed(pair.clone(), at);
            assert_eq!(backoff.wait(&pair, at), Some(Duration::from_secs(expected)));
            at += Duration::from_secs(expected);
            assert_eq!(backoff.wait(&pair, at), None, "waited {expected}s");
        }
        for _ in 0..30 {
            backoff.failed(pair.clone(), at);
        }
        assert_eq!(backoff.wait(&pair, at), Some(BACKOFF_MAX));
        assert_eq!(
            backoff.wait(&("ada".to_owned(), ip(2)), at),
            None,
            "another address is not held back"
        );
        backoff.succeeded(&pair);
        assert_eq!(backoff.wait(&pair, at), None);
    }

    #[test]
    fn resets_are_limited_per_address_and_per_client() {
        let resets = ResetThrottle::new(&IdentityConfig {
            reset_per_account: Quota::new(1, 2),
            reset_per_ip: Quota::new(1, 4),
            ..IdentityConfig::default()
        });
        resets.attempt("ada", ip(1)).unwrap();
        resets.attempt("ada", ip(2)).unwrap();
        assert!(resets.attempt("ada", ip(3)).is_err(), "the address's quota");
        resets.attempt("bob", ip(1)).unwrap();
        resets.attempt("cy", ip(1)).unwrap();
        resets.attempt("dee", ip(1)).unwrap();
        let wait = resets.attempt("eve", ip(1)).unwrap_err();
        assert!(
            wait > Duration::ZERO,
            "the client's quota says how long to wait"
        );
        resets.attempt("eve", ip(2)).unwrap();
    }

    #[test]
    fn quiet_pairs_are_forgotten() {
        let backoff = Backoff::new(0);
        let pair = ("ada".to_owned(), ip(1));
        let start = Instant::now();
        backoff.failed(pair.clone(), start);
        assert!(backoff.wait(&pair, start).is_some());
        let later = start + BACKOFF_FORGET;
        assert_eq!(backoff.wait(&pair, later), None);
        backoff.forget_idle(later);
        assert!(backoff.pairs().is_empty());
    }
}
