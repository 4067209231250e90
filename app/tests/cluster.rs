//! Journeys on a cluster of real `ordo` processes: each service in processes of its own,
//! two gateways in front, requests spread over both; and faults on it (`faults`, and
//! Redis away for a while: `redis`); the same platform in containers (`containers`).

#[path = "support/cluster.rs"]
mod cluster;
#[path = "cluster/containers.rs"]
mod containers;
#[path = "cluster/faults.rs"]
mod faults;
#[path = "cluster/redis.rs"]
mod redis;
mod support;

/// A cluster is 15 processes and their connections: the tests start theirs one by one.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use cluster::{Api, Cluster, Shop, told_on, until_seen};
use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::terminate;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_through_two_gateways() {
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    let Some(backend @ Backend::Postgres { .. }) = ordo_testkit::postgres("seed_003_on_a_cluster")
    else {
        return;
    };
    let Some(nats) = ordo_testkit::nats("seed_003_on_a_cluster") else {
        return;
    };
    let Some(redis) = ordo_testkit::redis("seed_003_on_a_cluster") else {
        return;
    };
    let cluster = Cluster::start(
        &backend,
        &nats,
        &redis,
        &[("orders", 2), ("delivery", 2), ("notifications", 2)],
        2,
        &[],
    )
    .await;
    let api = Api::new(cluster.gateways.clone());

    let Shop {
        owner,
        merchant_id,
        pizza,
    } = Shop::open(&api, 10).await;

    let (_, courier) = api.person("courier").await;
    api.json(
        api.request(Method::PUT, "/courier/availability", Some(&courier))
            .json(&json!({"online": true})),
    )
    .await;
    let located = api
        .request(Method::PUT, "/courier/location", Some(&courier))
        .json(&json!({"lat": 52.501, "lon": 13.4}))
        .send()
        .await
        .unwrap();
    assert_eq!(located.status(), StatusCode::NO_CONTENT);

    let (customer, card) = api.customer_with_card().await;
    // The customer's inbox stream open on both notifications instances: whichever files
    // the message, both streams are told of it.
    let mut inboxes = Vec::new();
    for (_, url) in &cluster.instances["notifications"] {
        let stream = api
            .http
            .get(format!("{url}/api/v1/notifications/stream"))
            .bearer_auth(&customer)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        inboxes.push(stream);
    }
    let body = json!({
        "items": [{"product_id": pizza, "quantity": 2}],
        "fulfilment": "delivery",
        "address": {"line1": "Kastanienallee 77", "city": "Berlin", "postal_code": "10435",
                    "country": "DE", "lat": 52.51, "lon": 13.41},
        "payment_method_id": card,
    });
    let place = || {
        api.request(Method::POST, "/orders", Some(&customer))
            .header("Idempotency-Key", "cluster-1")
            .json(&body)
    };
    let order = api.json(place()).await;
    let again = api.json(place()).await;
    assert_eq!(
        order["id"], again["id"],
        "one order, whichever instance answered"
    );
    let order = order["id"].as_str().unwrap().to_owned();
    api.until("the order is paid", || async {
        api.status(&order, &customer).await == "paid"
    })
    .await;
    for inbox in inboxes {
        told_on(inbox, "order_placed").await;
    }
    let act = |who: &str, action: &str| {
        api.request(
            Method::POST,
            &format!("/orders/{order}/{action}"),
            Some(who),
        )
    };
    api.json(act(&owner, "accept")).await;

    let delivery = api.take_offer(&courier).await;
    // The customer follows the courier from an orders process; delivery runs in another,
    // and the courier's next position still reaches the stream.
    let mut tracking = api
        .request(
            Method::GET,
            &format!("/orders/{order}/track"),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tracking.status(), StatusCode::OK);
    until_seen(&mut tracking, "event: position", 1).await;
    let moved = api
        .request(Method::PUT, "/courier/location", Some(&courier))
        .json(&json!({"lat": 52.502, "lon": 13.401}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::NO_CONTENT);
    until_seen(&mut tracking, "event: position", 1).await;
    drop(tracking);
    api.json(act(&owner, "ready")).await;
    api.deliver(&order, &delivery, [&owner, &courier, &customer])
        .await;
    let reviewed = api
        .request(
            Method::POST,
            &format!("/orders/{order}/review"),
            Some(&customer),
        )
        .json(&json!({"rating": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(reviewed.status(), StatusCode::CREATED);
    api.until("the review is shown on the merchant's page", || async {
        api.json(api.request(
            Method::GET,
            &format!("/merchants/{merchant_id}/reviews"),
            None,
        ))
        .await["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    })
    .await;
    api.until("the customer was told of the delivery", || async {
        api.json(api.request(Method::GET, "/notifications?limit=100", Some(&customer)))
            .await["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|n| n["kind"] == "order_delivered"))
    })
    .await;

    // One orders instance stopped (SIGTERM, drained): the other takes every order.
    let mut cluster = cluster;
    let (mut first, _) = cluster.instances.get_mut("orders").unwrap().remove(0);
    terminate(&mut first);
    let more = api
        .request(Method::POST, "/orders", Some(&customer))
        .header("Idempotency-Key", "cluster-2")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(more.status(), StatusCode::CREATED);
    cluster.stop().await;
}
