//! The shared rate limiter: GCRA in one Lua script, on Redis's clock (`TIME`), so that the
//! gateways' clocks do not matter and a check is one round trip. A key holds the
//! theoretical arrival time of the next request (µs) and expires when the allowance is full
//! again, so idle clients cost no memory.

use crate::{Error, Redis};
use futures_util::future::BoxFuture;
use ordo_http::ratelimit::{LimiterUnavailable, Quota, SharedLimiter, Verdict};
use std::time::Duration;

/// Arguments: the interval (µs) and the most the arrival time may run ahead of now (µs,
/// the burst's worth of intervals). Answers 0 when allowed, else the wait in µs.
const SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local ahead = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local wait = next_tat - now - ahead
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return 0
";

/// GCRA limits shared by every process using the same Redis and prefix.
#[derive(Debug, Clone)]
pub struct Gcra {
    redis: Redis,
    script: redis::Script,
}

impl Gcra {
    #[must_use]
    pub fn new(redis: Redis) -> Self {
        Gcra {
            redis,
            script: redis::Script::new(SCRIPT),
        }
    }

    /// Takes one request for `key` (under the prefix) from `quota`.
    ///
    /// # Errors
    /// Redis could not be asked.
    pub async fn take(&self, key: &str, quota: Quota) -> Result<Verdict, Error> {
        let interval = micros(quota.interval());
        let ahead = interval * u64::from(quota.burst);
        let key = self.redis.key(key);
        let mut invocation = self.script.prepare_invoke();
        invocation.key(key).arg(interval).arg(ahead);
        let wait: u64 = self.redis.invoke(invocation).await?;
        Ok(if wait == 0 {
            Ok(())
        } else {
            Err(Duration::from_micros(wait))
        })
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl SharedLimiter for Gcra {
    fn check<'a>(
        &'a self,
        key: &'a str,
        quota: Quota,
    ) -> BoxFuture<'a, Result<Verdict, LimiterUnavailable>> {
        Box::pin(async move {
            self.take(key, quota)
                .await
                .map_err(|e| LimiterUnavailable(e.to_string()))
        })
    }
}
