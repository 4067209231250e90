//! Journeys on a cluster of real `ordo` processes: each service in processes of its own,
//! two gateways in front, requests spread over both.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use cluster::Cluster;
use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::terminate;

/// A client of the platform, each request through the next gateway in turn.
struct Api {
    http: reqwest::Client,
    gateways: Vec<String>,
    next: AtomicUsize,
}

impl Api {
    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let gateway = &self.gateways[n % self.gateways.len()];
        let request = self.http.request(method, format!("{gateway}/api/v1{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{status}: {body}");
        body
    }

    /// A new account of `role`, signed in: its id and access token.
    async fn person(&self, role: &str) -> (String, String) {
        let email = format!("{role}-{}@example.com", uuid::Uuid::now_v7().simple());
        let password = "a cluster password";
        let registered = self
            .request(Method::POST, "/auth/register", None)
            .json(&json!({"email": email, "password": password, "name": "Clu Ster", "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let tokens = self
            .json(
                self.request(Method::POST, "/auth/login", None)
                    .json(&json!({"email": email, "password": password})),
            )
            .await;
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let me = self
            .json(self.request(Method::GET, "/me", Some(&token)))
            .await;
        (me["id"].as_str().unwrap().to_owned(), token)
    }

    /// Asks `check` again until it holds; events cross processes through the broker.
    async fn until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting until {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reads a live stream on until `text` has come `times` times in what it sends from now.
async fn until_seen(stream: &mut reqwest::Response, text: &str, times: usize) {
    let mut seen = String::new();
    let read = async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.matches(text).count() >= times {
                return;
            }
        }
        panic!("the stream ended before {text}: {seen}");
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("{text} did not come {times} times on the stream"));
}

/// Reads a live stream until a message of `kind` comes.
async fn told_on(mut stream: reqwest::Response, kind: &str) {
    until_seen(&mut stream, &format!("\"kind\":\"{kind}\""), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_through_two_gateways() {
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
    )
    .await;
    let api = Api {
        http: reqwest::Client::new(),
        gateways: cluster.gateways.clone(),
        next: AtomicUsize::new(0),
    };

    let (_, owner) = api.person("merchant").await;
    let merchant = api
        .json(
            api.request(Method::POST, "/merchants", Some(&owner))
                .json(&json!({
                    "name": "Trattoria", "kind": "restaurant", "address": "Via Roma 1",
                    "lat": 52.5, "lon": 13.4
                })),
        )
        .await;
    let merchant_id = merchant["id"].as_str().unwrap().to_owned();
    let pizza = api
        .json(
            api.request(
                Method::POST,
                &format!("/merchants/{merchant_id}/products"),
                Some(&owner),
            )
            .json(&json!({"name": "Margherita", "category": "Menu",
                          "price": {"amount": 950, "currency": "EUR"}})),
        )
        .await;
    let pizza = pizza["id"].as_str().unwrap().to_owned();
    api.json(
        api.request(
            Method::PUT,
            &format!("/products/{pizza}/stock"),
            Some(&owner),
        )
        .json(&json!({"on_hand": 10})),
    )
    .await;

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

    let (_, customer) = api.person("customer").await;
    let card = api
        .json(
            api.request(Method::POST, "/me/payment-methods", Some(&customer))
                .json(&json!({"card_number": "4242424242424242", "exp_month": 12,
                              "exp_year": 2035, "cvc": "123"})),
        )
        .await;
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
        "payment_method_id": card["id"],
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
    let status = || async {
        api.json(api.request(
            Method::GET,
            &format!("/orders/{order}/status"),
            Some(&customer),
        ))
        .await["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    api.until("the order is paid", || async { status().await == "paid" })
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

    let offers = || async {
        api.json(api.request(Method::GET, "/courier/offers", Some(&courier)))
            .await["items"][0]["id"]
            .as_str()
            .map(str::to_owned)
    };
    api.until("the courier is offered the delivery", || async {
        offers().await.is_some()
    })
    .await;
    let offer = offers().await.unwrap();
    let delivery = api
        .json(api.request(
            Method::POST,
            &format!("/courier/offers/{offer}/accept"),
            Some(&courier),
        ))
        .await;
    let delivery = delivery["id"].as_str().unwrap().to_owned();
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
    api.json(act(&owner, "picked-up")).await;
    api.until("the courier has it picked up", || async {
        api.json(api.request(Method::GET, "/courier/deliveries", Some(&courier)))
            .await["items"][0]["status"]
            == "picked_up"
    })
    .await;
    api.json(api.request(
        Method::POST,
        &format!("/deliveries/{delivery}/delivered"),
        Some(&courier),
    ))
    .await;
    api.until("the order is completed", || async {
        status().await == "completed"
    })
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
