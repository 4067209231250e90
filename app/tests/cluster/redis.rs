//! Redis away from a cluster for a while (cut through a proxy the test holds): orders are
//! still placed and paid through both gateways, each gateway limits on its own meanwhile and
//! says so, couriers' positions are refused with `Retry-After` and taken again once Redis is
//! back, and the order placed during the outage is dispatched and delivered after it. Every
//! delivery process, busy or idle, sees Redis go and reconnects once it is back.

use crate::cluster::{Api, Cluster, Shop};
use ordo_testkit::{Backend, TcpProxy};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Instant;

/// A customer's quota on every gateway: a burst, then ten a second.
const CUSTOMER_BURST: u32 = 40;
const CUSTOMER_PER_MINUTE: u32 = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_away_from_the_cluster() {
    let _alone = crate::ONE_CLUSTER_AT_A_TIME.lock().await;
    let Some(backend @ Backend::Postgres { .. }) = ordo_testkit::postgres("redis_away_cluster")
    else {
        return;
    };
    let (Some(nats), Some(redis)) = (
        ordo_testkit::nats("redis_away_cluster"),
        ordo_testkit::redis("redis_away_cluster"),
    ) else {
        return;
    };
    let proxy = TcpProxy::in_front_of(&redis).await;
    let (burst, rate) = (CUSTOMER_BURST.to_string(), CUSTOMER_PER_MINUTE.to_string());
    let cluster = Cluster::start(
        &backend,
        &nats,
        &proxy.url_for(&redis),
        &[("delivery", 2)],
        2,
        &[
            ("ORDO_RATE_LIMIT__CUSTOMER__BURST", &burst),
            ("ORDO_RATE_LIMIT__CUSTOMER__PER_MINUTE", &rate),
            ("ORDO_RATE_LIMIT__ANONYMOUS__BURST", "10000"),
            ("ORDO_RATE_LIMIT__ANONYMOUS__PER_MINUTE", "60000"),
        ],
    )
    .await;
    let api = Api::new(cluster.gateways.clone());
    let shop = Shop::open(&api, 10).await;
    let (_, courier) = api.person("courier").await;
    api.json(
        api.request(Method::PUT, "/courier/availability", Some(&courier))
            .json(&json!({"online": true})),
    )
    .await;
    let report = || {
        api.request(Method::PUT, "/courier/location", Some(&courier))
            .json(&json!({"lat": 52.501, "lon": 13.4}))
            .send()
    };
    assert_eq!(report().await.unwrap().status(), StatusCode::NO_CONTENT);
    let (customer, card) = api.customer_with_card().await;
    let readiness = |gateway: &str| {
        let url = format!("{gateway}/readyz");
        let http = api.http.clone();
        async move {
            let answer = http.get(url).send().await.unwrap();
            (answer.status(), answer.text().await.unwrap())
        }
    };

    // What each delivery process says of Redis in its readiness.
    let redis_up = |instance: &str| {
        let url = format!("{instance}/readyz");
        let http = api.http.clone();
        async move {
            let answer: serde_json::Value =
                http.get(url).send().await.unwrap().json().await.unwrap();
            answer["redis"] == true
        }
    };
    let deliveries: Vec<&str> = cluster.instances["delivery"]
        .iter()
        .map(|(_, url)| url.as_str())
        .collect();

    proxy.cut();
    // Even a process that sends Redis nothing meanwhile sees its connection close.
    for instance in &deliveries {
        api.until("the delivery process sees Redis away", || async {
            !redis_up(instance).await
        })
        .await;
    }
    for gateway in &cluster.gateways {
        api.until("the gateway limits on its own", || async {
            readiness(gateway).await.1.contains("this gateway's own")
        })
        .await;
        assert_eq!(
            readiness(gateway).await.0,
            StatusCode::OK,
            "a limiter outage is not an API outage"
        );
    }
    let order = api
        .paid_order(&customer, &card, &shop.pizza, "redis-away-1")
        .await;
    api.json(api.request(
        Method::POST,
        &format!("/orders/{order}/accept"),
        Some(&shop.owner),
    ))
    .await;
    let refused = report().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));

    // One customer's requests at once on one gateway: limited there, by that gateway alone,
    // to its burst and what refilled while they ran.
    let (_, eager) = api.person("customer").await;
    let one = &cluster.gateways[0];
    let asked = 4 * CUSTOMER_BURST;
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..asked).map(|_| {
        api.http
            .get(format!("{one}/api/v1/me"))
            .bearer_auth(&eager)
            .send()
    }))
    .await;
    let took = started.elapsed().as_secs_f64();
    let mut admitted: u32 = 0;
    for answer in answers {
        match answer.unwrap().status() {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other} for a read while Redis is away"),
        }
    }
    println!("{admitted} of {asked} admitted in {took:.2} s while Redis was away");
    let allowed = f64::from(CUSTOMER_BURST) + f64::from(CUSTOMER_PER_MINUTE) / 60.0 * took + 1.0;
    assert!(
        admitted >= CUSTOMER_BURST - 1 && f64::from(admitted) <= allowed,
        "{admitted} of {asked} admitted in {took:.1} s; the burst is {CUSTOMER_BURST}"
    );

    proxy.restore();
    for instance in &deliveries {
        api.until("the delivery process is connected again", || async {
            redis_up(instance).await
        })
        .await;
    }
    assert_eq!(report().await.unwrap().status(), StatusCode::NO_CONTENT);
    for gateway in &cluster.gateways {
        api.until("the gateway shares its limits again", || async {
            readiness(gateway).await.1 == "ready"
        })
        .await;
    }
    let delivery = api.take_offer(&courier).await;
    api.json(api.request(
        Method::POST,
        &format!("/orders/{order}/ready"),
        Some(&shop.owner),
    ))
    .await;
    api.deliver(&order, &delivery, [&shop.owner, &courier, &customer])
        .await;
    cluster.stop().await;
}
