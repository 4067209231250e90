//! A `kill -9` while orders are being placed, then every order cancelled at once after the
//! restart: the events the outbox relays again after the crash come together with the
//! cancellations, and a broker redelivers what was not acknowledged after its ack wait
//! while later events flow. On every bus backend, whatever arrives first: no card stays
//! authorised on a cancelled order, every cancellation is told to its customer, the
//! reports count what the database holds, and nothing is dead-lettered.

mod support;

use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{Server, listen, ordo, terminate};

const CLIENTS: usize = 6;
/// The kill comes after this many orders are acknowledged, the next ones in flight.
const KILL_AFTER: usize = 120;
const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "a long admin password";

/// The public API of a running server.
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }
}

/// One run: `backend` for the databases, `bus` the settings of the event bus.
async fn a_kill_then_cancellations_leave_no_card_authorised(
    backend: Backend,
    bus: Vec<(&'static str, String)>,
) {
    let dir = ordo_testkit::temp_dir();
    let command = || {
        let mut command = ordo(&backend, dir.path());
        command.env("ORDO_RATE_LIMIT__ENABLED", "false");
        for (key, value) in &bus {
            command.env(key, value);
        }
        command
    };
    let created = command()
        .args([
            "admin",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let (server, url) = listen(command());
    let client = reqwest::Client::new();
    let shop = ordo_app::bench::shop::setup(&client, &format!("{url}/api/v1"), CLIENTS, 1_000_000)
        .await
        .unwrap();
    let api = Api { client, base: url };

    // Six clients place pickup orders until the kill.
    let placed = place_until_killed(&api, server, &shop).await;
    let (mut server, url) = listen(command());
    let api = Api { base: url, ..api };

    // At once after the restart, every order not yet at an end is cancelled by its
    // customer: many while still pending payment, their placement maybe not yet handled.
    let mut cancels = tokio::task::JoinSet::new();
    for (order, customer) in &placed {
        let token = shop.customers[*customer].0.clone();
        let path = format!("/orders/{order}/cancel");
        let api = Api {
            client: api.client.clone(),
            base: api.base.clone(),
        };
        cancels.spawn(async move { api.call(Method::POST, &path, &token, None, None).await });
    }
    while let Some(done) = cancels.join_next().await {
        let (status, body) = done.unwrap().unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "cancel: {status} {body}"
        );
    }

    let orders = backend.open(dir.path(), "orders").await;
    let payments = backend.open(dir.path(), "payments").await;
    let notifications = backend.open(dir.path(), "notifications").await;
    let admin = login(&api, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    let settled = loop {
        let cancelled: Vec<String> =
            sqlx::query("SELECT id FROM orders WHERE status = 'cancelled'")
                .fetch_all(orders.reader())
                .await
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
        let authorised: i64 = count(
            &payments,
            "SELECT COUNT(*) FROM payments WHERE status = 'authorized' AND order_id IN",
            &cancelled,
        )
        .await;
        let told: i64 = count(&notifications, "SELECT COUNT(DISTINCT order_id) FROM notifications WHERE kind = 'order_cancelled' AND order_id IN", &cancelled).await;
        let (status, report) = api
            .call(Method::GET, "/admin/reports/summary", &admin, None, None)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{report}");
        let reported: i64 = report["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|bucket| bucket["cancelled"].as_i64().unwrap())
            .sum();
        let (status, letters) = api
            .call(Method::GET, "/admin/dead-letters", &admin, None, None)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{letters}");
        let dead = letters["items"].as_array().unwrap().len();
        assert_eq!(dead, 0, "nothing is dead-lettered: {letters}");
        let cancelled = i64::try_from(cancelled.len()).unwrap();
        let state = format!(
            "{cancelled} cancelled: {authorised} still authorised, {told} told, {reported} reported"
        );
        if authorised == 0 && told == cancelled && reported == cancelled && cancelled > 0 {
            break state;
        }
        assert!(Instant::now() < deadline, "not settled: {state}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let metrics = api
        .client
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let held: f64 = metrics
        .lines()
        .filter(|line| line.starts_with("bus_held_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |total, n| total + n);
    eprintln!(
        "settled after the kill: {} orders, {settled}; {held} events held back for their predecessors",
        placed.len()
    );
    terminate(&mut server);
}

/// Places orders from every client until `KILL_AFTER` are acknowledged, then kills the
/// server with the next ones in flight. The acknowledged orders, with their clients.
async fn place_until_killed(
    api: &Api,
    mut server: Server,
    shop: &ordo_app::bench::shop::Shop,
) -> HashMap<String, usize> {
    let mut placed = HashMap::new();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut next = 0_usize;
    let place = |n: usize| {
        let customer = n % CLIENTS;
        let (token, card) = shop.customers[customer].clone();
        let body = json!({
            "items": [{"product_id": shop.product, "quantity": 1}],
            "fulfilment": "pickup", "payment_method_id": card
        });
        let api = Api {
            client: api.client.clone(),
            base: api.base.clone(),
        };
        async move {
            let key = format!("crash-{n}");
            let answer = api
                .call(Method::POST, "/orders", &token, Some(&body), Some(&key))
                .await;
            (customer, answer)
        }
    };
    for _ in 0..CLIENTS {
        in_flight.spawn(place(next));
        next += 1;
    }
    while let Some(done) = in_flight.join_next().await {
        let (customer, answer) = done.unwrap();
        if let Ok((status, order)) = answer {
            assert_eq!(status, StatusCode::CREATED, "{order}");
            placed.insert(order["id"].as_str().unwrap().to_owned(), customer);
        }
        if placed.len() >= KILL_AFTER {
            server.0.kill().unwrap();
            server.0.wait().unwrap();
            in_flight.abort_all();
            break;
        }
        in_flight.spawn(place(next));
        next += 1;
    }
    placed
}

async fn login(api: &Api, email: &str, password: &str) -> String {
    let response: Value = api
        .client
        .post(format!("{}/api/v1/auth/login", api.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["access_token"].as_str().unwrap().to_owned()
}

/// `query` (ending in `IN`) over `ids`, counted.
async fn count(db: &ordo_db::Db, query: &str, ids: &[String]) -> i64 {
    let mut total = 0;
    for chunk in ids.chunks(200) {
        let sql = format!("{query} ({})", ordo_db::sql::placeholders(1, chunk.len()));
        let mut statement = sqlx::query(&sql);
        for id in chunk {
            statement = statement.bind(id);
        }
        let n: i64 = statement.fetch_one(db.reader()).await.unwrap().get(0);
        total += n;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_sqlite() {
    a_kill_then_cancellations_leave_no_card_authorised(Backend::Sqlite, Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_postgres() {
    let test = "crash::nats_postgres";
    let (Some(backend), Some(nats)) = (ordo_testkit::postgres(test), ordo_testkit::nats(test))
    else {
        return;
    };
    let unique = ordo_testkit::unique_prefix();
    // A short ack wait, so that what the crash left unacknowledged comes back within the
    // run, after the cancellations.
    let bus = vec![
        ("ORDO_BUS_URL", nats.clone()),
        ("ORDO_BUS__STREAM", format!("T_{unique}")),
        ("ORDO_BUS__SUBJECT_PREFIX", unique.clone()),
        ("ORDO_BUS__ACK_WAIT_SECS", "2".to_owned()),
        ("ORDO_BUS__GAP_TIMEOUT_SECS", "120".to_owned()),
    ];
    a_kill_then_cancellations_leave_no_card_authorised(backend, bus).await;
    let client = async_nats::connect(nats.as_str()).await.unwrap();
    let _ = async_nats::jetstream::new(client)
        .delete_stream(format!("T_{unique}"))
        .await;
}
