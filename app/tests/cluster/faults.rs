//! Faults on a cluster of real `ordo` processes (2 gateways; orders, delivery and
//! notifications twice): a client's quota holds across both gateways; an orders instance,
//! a delivery instance and a gateway are killed (SIGKILL) in the middle of work, and every
//! client still gets what it was acknowledged, once.

use crate::cluster::{Api, Cluster, Shop};
use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A customer's quota on every gateway: a burst, then ten a second.
const CUSTOMER_BURST: usize = 200;
const CUSTOMER_PER_MINUTE: usize = 600;
const CLIENTS: usize = 16;
const ORDERS_EACH: usize = 4;
const COURIERS: usize = 4;
/// How long a client keeps trying one request through the outage.
const TRY_FOR: Duration = Duration::from_secs(90);
/// PostgreSQL's default `max_connections` is 100: the cluster leaves a fifth to operators.
const CONNECTION_BUDGET: i64 = 80;
/// The orders service's own pool, in each of its two processes.
const ORDERS_POOL: &str = "6";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_killed_under_load() {
    let _alone = crate::ONE_CLUSTER_AT_A_TIME.lock().await;
    let Some(backend @ Backend::Postgres { .. }) = ordo_testkit::postgres("instances_killed")
    else {
        return;
    };
    let sampler_dir = ordo_testkit::temp_dir();
    let connections = ConnectionPeak::sample(&backend, sampler_dir.path()).await;
    let (Some(nats), Some(redis)) = (
        ordo_testkit::nats("instances_killed"),
        ordo_testkit::redis("instances_killed"),
    ) else {
        return;
    };
    let (burst, rate) = (CUSTOMER_BURST.to_string(), CUSTOMER_PER_MINUTE.to_string());
    let mut cluster = Cluster::start(
        &backend,
        &nats,
        &redis,
        &[("orders", 2), ("delivery", 2), ("notifications", 2)],
        2,
        &[
            ("ORDO_RATE_LIMIT__CUSTOMER__BURST", &burst),
            ("ORDO_RATE_LIMIT__CUSTOMER__PER_MINUTE", &rate),
            // Everyone signs up from 127.0.0.1.
            ("ORDO_RATE_LIMIT__ANONYMOUS__BURST", "10000"),
            ("ORDO_RATE_LIMIT__ANONYMOUS__PER_MINUTE", "60000"),
            ("ORDO_SERVICES__ORDERS__MAX_CONNECTIONS", ORDERS_POOL),
        ],
    )
    .await;
    let api = Arc::new(Api::new(cluster.gateways.clone()));

    one_quota_across_gateways(&api).await;
    let shop = Shop::open(&api, 1000).await;
    let customers = orders_instance_killed(&api, &mut cluster, &shop).await;
    let (customer, order) = delivery_instance_killed(&api, &mut cluster, &shop, &customers).await;
    gateway_killed(&api, &mut cluster, &shop, &customer, &order).await;
    let (peak, by_service) = connections.peak().await;
    cluster.stop().await;
    println!("the cluster held at most {peak} connections to PostgreSQL: {by_service:?}");
    assert!(
        peak <= CONNECTION_BUDGET,
        "the cluster held {peak} connections at once; its budget is {CONNECTION_BUDGET}"
    );
    let orders_most = 2 * ORDERS_POOL.parse::<i64>().unwrap();
    let orders = by_service.get("ordo_orders").copied().unwrap_or_default();
    assert!(
        (1..=orders_most).contains(&orders),
        "orders held {orders} connections; its two pools have {orders_most}"
    );
}

/// The most connections to the test's database held at once while the test ran, in all
/// (the sampler's own included) and by service (`application_name`), asked every 100 ms.
struct ConnectionPeak {
    stop: tokio::sync::watch::Sender<bool>,
    sampler: tokio::task::JoinHandle<(i64, BTreeMap<String, i64>)>,
}

impl ConnectionPeak {
    async fn sample(backend: &Backend, dir: &std::path::Path) -> ConnectionPeak {
        let db = backend.open(dir, "sampler").await;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let sampler = tokio::spawn(async move {
            let mut peak = 0;
            let mut by_service = BTreeMap::new();
            while !*stopped.borrow_and_update() {
                let rows: Vec<(String, i64)> = db
                    .fetch_all(
                        "SELECT coalesce(application_name, ''), count(*) FROM pg_stat_activity
                         WHERE datname = current_database() GROUP BY 1",
                        ordo_db::params![],
                    )
                    .await
                    .unwrap();
                let mut held = 0;
                for (name, count) in rows {
                    held += count;
                    let most = by_service.entry(name).or_insert(0);
                    *most = count.max(*most);
                }
                peak = peak.max(held);
                let _ = tokio::time::timeout(Duration::from_millis(100), stopped.changed()).await;
            }
            (peak, by_service)
        });
        ConnectionPeak { stop, sampler }
    }

    async fn peak(self) -> (i64, BTreeMap<String, i64>) {
        self.stop.send(true).unwrap();
        self.sampler.await.unwrap()
    }
}

/// One customer's requests spread over both gateways take from one allowance: the burst and
/// the rate over the time taken, give or take one request per gateway.
async fn one_quota_across_gateways(api: &Api) {
    let (_, customer) = api.person("customer").await;
    let started = Instant::now();
    // `person` asked once already.
    let mut admitted = 1;
    for _ in 0..CUSTOMER_BURST * 3 / 2 {
        let status = api
            .request(Method::GET, "/me", Some(&customer))
            .send()
            .await
            .unwrap()
            .status();
        match status {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("GET /me answered {other}"),
        }
    }
    let per_second = CUSTOMER_PER_MINUTE as f64 / 60.0;
    let most = CUSTOMER_BURST + (per_second * started.elapsed().as_secs_f64()).ceil() as usize + 2;
    // The service behind may refuse one or two of its own: its limiter sees them late.
    let least = CUSTOMER_BURST - 2;
    assert!(
        (least..=most).contains(&admitted),
        "admitted {admitted}, between {least} and {most} expected: the gateways share one allowance"
    );
}

/// Sends `build()` until it is answered other than with an outage: a refused or reset
/// connection, 502, 503 or 504, or 409 for the same key still running (a request that died
/// holding it). Each retry carries the same `Idempotency-Key`.
async fn until_answered(build: impl Fn() -> reqwest::RequestBuilder) -> (StatusCode, Value) {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < TRY_FOR, "no answer for {TRY_FOR:?}");
        let Ok(response) = build().send().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let in_flight = status == StatusCode::CONFLICT
            && body["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("idempotency-key-in-flight"));
        let outage = matches!(
            status,
            StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
        );
        if !(outage || in_flight) {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sixteen clients place orders with `Idempotency-Key`s; one orders instance is killed once
/// a first round is acknowledged. Every client gets every order it asked for, each once,
/// and nothing answers 500. The customers, with their cards.
async fn orders_instance_killed(
    api: &Arc<Api>,
    cluster: &mut Cluster,
    shop: &Shop,
) -> Vec<(String, String)> {
    let mut customers = Vec::new();
    for _ in 0..CLIENTS {
        customers.push(api.customer_with_card().await);
    }
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(tokio::sync::Notify::new());
    let mut clients = tokio::task::JoinSet::new();
    for (n, (customer, card)) in customers.iter().cloned().enumerate() {
        let (api, acknowledged, progress) = (api.clone(), acknowledged.clone(), progress.clone());
        let pizza = shop.pizza.clone();
        clients.spawn(async move {
            let mut placed = BTreeSet::new();
            for i in 0..ORDERS_EACH {
                let body = json!({"items": [{"product_id": pizza, "quantity": 1}],
                                  "fulfilment": "pickup", "payment_method_id": card});
                let key = format!("client-{n}-order-{i}");
                let (status, order) = until_answered(|| {
                    api.request(Method::POST, "/orders", Some(&customer))
                        .header("Idempotency-Key", &key)
                        .json(&body)
                })
                .await;
                assert!(status.is_success(), "{status}: {order}");
                placed.insert(order["id"].as_str().unwrap().to_owned());
                acknowledged.fetch_add(1, Ordering::SeqCst);
                progress.notify_waiters();
            }
            (customer, placed)
        });
    }
    // Killed once each client has had about one order acknowledged: the rest are in flight
    // or to come.
    loop {
        let woken = progress.notified();
        if acknowledged.load(Ordering::SeqCst) >= CLIENTS {
            break;
        }
        woken.await;
    }
    cluster.kill("orders", 0);
    let mut placed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(client) = clients.join_next().await {
        let (customer, orders) = client.unwrap();
        assert_eq!(orders.len(), ORDERS_EACH, "one order per key");
        placed.insert(customer, orders);
    }
    for (customer, orders) in &placed {
        let listed = api
            .json(api.request(Method::GET, "/orders?limit=100", Some(customer)))
            .await;
        let listed: BTreeSet<String> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(&listed, orders, "every acknowledged order exists, once");
    }
    customers
}

/// Couriers report positions while deliveries are offered; one delivery instance is killed
/// with offers out. The other dispatches on: every delivery finds its courier, and no
/// courier ever holds two open offers for one delivery. One customer and their delivery
/// order, assigned.
async fn delivery_instance_killed(
    api: &Arc<Api>,
    cluster: &mut Cluster,
    shop: &Shop,
    customers: &[(String, String)],
) -> ((String, String), String) {
    let mut couriers = Vec::new();
    for _ in 0..COURIERS {
        let (_, courier) = api.person("courier").await;
        api.json(
            api.request(Method::PUT, "/courier/availability", Some(&courier))
                .json(&json!({"online": true})),
        )
        .await;
        couriers.push(courier);
    }
    let reporting = tokio::sync::watch::channel(true);
    let mut reporters = tokio::task::JoinSet::new();
    for (n, courier) in couriers.iter().cloned().enumerate() {
        let (api, mut go_on) = (api.clone(), reporting.1.clone());
        reporters.spawn(async move {
            let mut step = 0_u32;
            while *go_on.borrow_and_update() {
                let lat = 52.501 + f64::from(step % 10) * 0.0001 + n as f64 * 0.0001;
                // Refused while its instance is down, or past the quota: it reports again.
                let _ = api
                    .request(Method::PUT, "/courier/location", Some(&courier))
                    .json(&json!({"lat": lat, "lon": 13.4}))
                    .send()
                    .await;
                step += 1;
                let _ = tokio::time::timeout(Duration::from_millis(500), go_on.changed()).await;
            }
        });
    }
    let mut orders = Vec::new();
    for (customer, card) in customers.iter().take(COURIERS) {
        let body = json!({"items": [{"product_id": shop.pizza, "quantity": 1}],
                          "fulfilment": "delivery",
                          "address": {"line1": "Kastanienallee 77", "city": "Berlin",
                                      "postal_code": "10435", "country": "DE",
                                      "lat": 52.51, "lon": 13.41},
                          "payment_method_id": card});
        let (status, order) = until_answered(|| {
            api.request(Method::POST, "/orders", Some(customer))
                .header("Idempotency-Key", "delivered")
                .json(&body)
        })
        .await;
        assert!(status.is_success(), "{status}: {order}");
        orders.push((
            (customer.clone(), card.clone()),
            order["id"].as_str().unwrap().to_owned(),
        ));
    }
    for ((customer, _), order) in &orders {
        api.until("the order is paid", || async {
            api.json(api.request(
                Method::GET,
                &format!("/orders/{order}/status"),
                Some(customer),
            ))
            .await["status"]
                == "paid"
        })
        .await;
        api.json(api.request(
            Method::POST,
            &format!("/orders/{order}/accept"),
            Some(&shop.owner),
        ))
        .await;
    }
    let open_offers = |courier: &String| {
        let (api, courier) = (api.clone(), courier.clone());
        async move {
            let (status, offers) =
                until_answered(|| api.request(Method::GET, "/courier/offers", Some(&courier)))
                    .await;
            assert_eq!(status, StatusCode::OK, "{offers}");
            let offers = offers["items"].as_array().cloned().unwrap_or_default();
            let deliveries: BTreeSet<&str> = offers
                .iter()
                .map(|o| o["delivery_id"].as_str().unwrap())
                .collect();
            assert_eq!(
                deliveries.len(),
                offers.len(),
                "two open offers for one delivery"
            );
            offers
        }
    };
    api.until("offers are out", || async {
        for courier in &couriers {
            if !open_offers(courier).await.is_empty() {
                return true;
            }
        }
        false
    })
    .await;
    cluster.kill("delivery", 0);
    // Each courier takes an offer made to them; one whose answer was lost with its instance
    // finds the delivery among its own.
    let started = Instant::now();
    let mut carrying = BTreeSet::new();
    while carrying.len() < COURIERS {
        assert!(
            started.elapsed() < TRY_FOR,
            "deliveries without a courier: {} of {COURIERS} carried",
            carrying.len()
        );
        for (n, courier) in couriers.iter().enumerate() {
            if carrying.contains(&n) {
                continue;
            }
            for offer in open_offers(courier).await {
                let id = offer["id"].as_str().unwrap();
                let accept = || {
                    api.request(
                        Method::POST,
                        &format!("/courier/offers/{id}/accept"),
                        Some(courier),
                    )
                };
                if until_answered(accept).await.0.is_success() {
                    break;
                }
            }
            let mine =
                until_answered(|| api.request(Method::GET, "/courier/deliveries", Some(courier)))
                    .await
                    .1;
            if mine["items"].as_array().is_some_and(|d| !d.is_empty()) {
                carrying.insert(n);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    reporting.0.send(false).unwrap();
    while reporters.join_next().await.is_some() {}
    orders.swap_remove(0)
}

/// Reads a notification stream until a notification of `kind` comes: the id it was sent
/// with, and what came before it.
async fn until_notified(stream: &mut reqwest::Response, kind: &str) -> (String, String) {
    let mut seen = String::new();
    let read = async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            let wanted = format!("\"kind\":\"{kind}\"");
            if let Some(at) = seen.find(&wanted) {
                let event = &seen[seen[..at].rfind("\n\n").map_or(0, |start| start + 2)..];
                let id = event
                    .lines()
                    .find_map(|line| line.strip_prefix("id: "))
                    .expect("a notification has an id")
                    .to_owned();
                return (id, seen[..at].to_owned());
            }
        }
        panic!("the stream ended before {kind}: {seen}");
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("no {kind} on the stream"))
}

/// A gateway killed while a customer follows their notifications through it: they
/// reconnect to the other with `Last-Event-ID` and miss nothing filed meanwhile.
async fn gateway_killed(
    api: &Api,
    cluster: &mut Cluster,
    shop: &Shop,
    customer: &(String, String),
    order: &str,
) {
    let (token, _) = customer;
    let stream_from = |gateway: &str, last: Option<&str>| {
        let request = api
            .http
            .get(format!("{gateway}/api/v1/notifications/stream"))
            .bearer_auth(token);
        match last {
            Some(id) => request.header("Last-Event-ID", id),
            None => request,
        }
    };
    let (doomed, survivor) = (cluster.gateways[0].clone(), cluster.gateways[1].clone());
    let mut stream = stream_from(&doomed, None).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let act = |action: &str| {
        api.request(
            Method::POST,
            &format!("/orders/{order}/{action}"),
            Some(&shop.owner),
        )
    };
    api.json(act("ready")).await;
    let (last, _) = until_notified(&mut stream, "order_ready").await;

    cluster.kill_gateway(0);
    let survivor_only = Api::new(vec![survivor.clone()]);
    survivor_only.hand_over(order, &shop.owner).await;
    let mut resumed = stream_from(&survivor, Some(&last)).send().await.unwrap();
    assert_eq!(resumed.status(), StatusCode::OK);
    let (_, before) = until_notified(&mut resumed, "order_picked_up").await;
    assert!(
        !before.contains("order_ready"),
        "resumed after what was seen: {before}"
    );
}
