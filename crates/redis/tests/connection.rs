//! The connection to Redis: commands fail fast while it is lost, and one that closes while
//! idle is seen at once and replaced; TLS
//! with an authority of the platform's own, a password, and what a refusal says.

use ordo_http::ratelimit::Quota;
use ordo_redis::{Gcra, Redis, Tls};
use ordo_testkit::{SecuredRedis, TcpProxy};
use std::future::Future;
use std::time::Duration;

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("{what} within a minute"))
}

async fn ping(redis: &Redis) -> String {
    redis.query(&redis::cmd("PING")).await.unwrap()
}

/// Redis through a proxy the test can cut, keys under a prefix of the test's own.
async fn behind_proxy(test: &str) -> Option<(TcpProxy, Redis)> {
    let url = ordo_testkit::redis(test)?;
    let proxy = TcpProxy::in_front_of(&url).await;
    let prefix = format!("{}:", ordo_testkit::unique_prefix());
    let redis = Redis::open(&proxy.url_for(&url), &prefix).await.unwrap();
    Some((proxy, redis))
}

#[tokio::test]
async fn an_idle_connection_that_closes_is_replaced() {
    let Some((proxy, redis)) = behind_proxy("an_idle_connection_that_closes_is_replaced").await
    else {
        return;
    };
    within("connected", redis.connected()).await;
    proxy.cut();
    // No command is sent: the client's own notice of the close is what tells.
    within("the close is seen", redis.disconnected()).await;
    proxy.restore();
    within("connected again", redis.connected()).await;
    assert_eq!(ping(&redis).await, "PONG");
}

#[tokio::test]
async fn a_lost_connection_fails_fast_and_comes_back() {
    let Some((proxy, redis)) = behind_proxy("a_lost_connection_fails_fast_and_comes_back").await
    else {
        return;
    };
    let gcra = Gcra::new(redis.clone());
    let quota = Quota::new(6000, 1000);
    assert!(gcra.take("k", quota).await.unwrap().is_ok());
    proxy.cut();
    // The command in flight when the link went, or the close notice, finds out; those after
    // fail at once.
    let lost = gcra.take("k", quota).await;
    assert!(
        matches!(lost, Err(ordo_redis::Error::Unreachable(_))),
        "{lost:?}"
    );
    let down = gcra.take("k", quota).await;
    assert!(
        matches!(down, Err(ordo_redis::Error::Unreachable(_))),
        "{down:?}"
    );
    proxy.restore();
    // Reconnected in the background.
    within("Redis is reached again", redis.connected()).await;
    assert!(redis.is_up());
    assert!(gcra.take("k", quota).await.unwrap().is_ok());
}

async fn read(server: &SecuredRedis, name: &str) -> Vec<u8> {
    tokio::fs::read(server.file(name)).await.unwrap()
}

#[tokio::test]
async fn over_tls_with_an_authority_of_its_own() {
    let Some(server) = SecuredRedis::start("over_tls_with_an_authority_of_its_own").await else {
        return;
    };
    let url = server.url_with("localhost", SecuredRedis::PASSWORD);
    let ca = read(&server, "ca.pem").await;
    let trusting = Tls {
        ca: Some(ca.clone()),
        client: None,
    };
    let redis = Redis::open_with(&url, "t:", trusting).await.unwrap();
    within("connected over TLS", redis.connected()).await;
    assert_eq!(ping(&redis).await, "PONG");

    let presenting = Tls {
        ca: Some(ca),
        client: Some((
            read(&server, "client-cert.pem").await,
            read(&server, "client-key.pem").await,
        )),
    };
    let redis = Redis::open_with(&url, "t:", presenting).await.unwrap();
    within("connected with a client certificate", redis.connected()).await;
    assert_eq!(ping(&redis).await, "PONG");

    let plain = Redis::open_with(
        &url.replace("rediss://", "redis://"),
        "t:",
        Tls {
            ca: Some(read(&server, "ca.pem").await),
            client: None,
        },
    )
    .await;
    assert!(plain.is_err(), "certificates without rediss:// are refused");
}

/// The reason `redis`'s attempts to connect give once one says `why`: they go on in the
/// background, and one under load may time out before it gets as far.
async fn refused_for(redis: &Redis, why: &str) -> String {
    within(why, redis.refused_for(|reason| reason.contains(why))).await
}

#[tokio::test]
async fn a_refusal_says_why_without_the_password() {
    let Some(server) = SecuredRedis::start("a_refusal_says_why_without_the_password").await else {
        return;
    };
    // Trusting only the system's authorities, the server's certificate is unknown.
    let untrusting = server.url_with("localhost", SecuredRedis::PASSWORD);
    let redis = Redis::open_with(&untrusting, "t:", Tls::default())
        .await
        .unwrap();
    let refused = refused_for(&redis, "certificate").await;
    assert!(!redis.is_up());
    assert!(!refused.contains(SecuredRedis::PASSWORD), "{refused}");

    let wrong = "not-the-8e2d71-password";
    let trusting = Tls {
        ca: Some(read(&server, "ca.pem").await),
        client: None,
    };
    let redis = Redis::open_with(&server.url_with("localhost", wrong), "t:", trusting)
        .await
        .unwrap();
    let refused = refused_for(&redis, "WRONGPASS").await;
    assert!(!redis.is_up());
    assert!(!refused.contains(wrong), "{refused}");
}
