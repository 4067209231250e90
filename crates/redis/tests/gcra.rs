//! The shared limiter on a real Redis: one allowance per key whoever asks, on Redis's clock,
//! and a fallback that needs no Redis.

use ordo_http::ratelimit::{Quota, RateLimitConfig, RateLimits, SharedLimiter};
use ordo_redis::{Gcra, Redis};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

async fn limiter(url: &str, prefix: &str) -> Gcra {
    Gcra::new(Redis::open(url, prefix).await.expect("a Redis URL"))
}

#[tokio::test]
async fn two_processes_share_one_allowance_per_key() {
    let Some(url) = ordo_testkit::redis("two_processes_share_one_allowance_per_key") else {
        return;
    };
    let prefix = format!("{}:", ordo_testkit::unique_prefix());
    let (here, there) = (limiter(&url, &prefix).await, limiter(&url, &prefix).await);
    // One request a minute: nothing comes back during the test, so the sum is the burst.
    let quota = Quota::new(1, 5);
    let mut admitted = 0;
    for round in 0..10 {
        let gateway = if round % 2 == 0 { &here } else { &there };
        if gateway.take("client", quota).await.unwrap().is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5, "the burst, across both");
    let wait = here.take("client", quota).await.unwrap().unwrap_err();
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(
        there.take("another", quota).await.unwrap().is_ok(),
        "keys are independent"
    );
    let other_platform = limiter(&url, &format!("{prefix}other:")).await;
    assert!(
        other_platform.take("client", quota).await.unwrap().is_ok(),
        "prefixes are independent"
    );
}

#[tokio::test]
async fn the_allowance_comes_back_at_the_rate() {
    let Some(url) = ordo_testkit::redis("the_allowance_comes_back_at_the_rate") else {
        return;
    };
    let prefix = format!("{}:", ordo_testkit::unique_prefix());
    let redis = Redis::open(&url, &prefix).await.unwrap();
    let gcra = Gcra::new(redis.clone());
    // 60 a minute, a burst of 2: each request moves the next arrival one second on.
    let quota = Quota::new(60, 2);
    // Redis's clock, which the script reads, in µs; the key is set as if requests had come.
    let now = || async {
        let (seconds, micros): (u64, u64) = redis.query(&redis::cmd("TIME")).await.unwrap();
        seconds * 1_000_000 + micros
    };
    let arrive_at = |tat: u64| {
        let (redis, key) = (redis.clone(), redis.key("k"));
        async move {
            let set: () = redis
                .query(redis::cmd("SET").arg(key).arg(tat).arg("EX").arg(60))
                .await
                .unwrap();
            set
        }
    };
    // The burst spent up to two seconds ahead: refused, with the wait a request takes.
    arrive_at(now().await + 2_000_000).await;
    let wait = gcra.take("k", quota).await.unwrap().unwrap_err();
    assert!(
        wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
        "{wait:?}"
    );
    // A second of it has come back since: one request is allowed, the next is not.
    arrive_at(now().await + 1_000_000).await;
    assert!(gcra.take("k", quota).await.unwrap().is_ok());
    assert!(gcra.take("k", quota).await.unwrap().is_err());
}

#[tokio::test]
async fn without_redis_limits_fall_back_to_the_process() {
    let proxy = ordo_testkit::TcpProxy::start("127.0.0.1:9".into()).await;
    proxy.cut();
    let redis = Redis::open(&format!("redis://{}", proxy.addr), "t:")
        .await
        .expect("a Redis URL");
    assert!(!redis.is_up());
    let shared: Arc<dyn SharedLimiter> = Arc::new(Gcra::new(redis));
    let config = RateLimitConfig {
        anonymous: Quota::new(1, 2),
        ..RateLimitConfig::default()
    };
    let limits = RateLimits::shared(&config, shared);
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    assert!(limits.check(None, ip).await.is_ok());
    assert!(limits.local_only());
    assert!(limits.check(None, ip).await.is_ok());
    assert!(
        limits.check(None, ip).await.is_err(),
        "the local limiter holds the quota"
    );
}
