//! The `ordo` binary as an operator uses it.

mod support;

use ordo_testkit::{Backend, TcpProxy, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{Server, listen, ordo, terminate};

#[test]
fn version_is_printed() {
    let dir = ordo_testkit::temp_dir();
    let output = ordo(&Backend::Sqlite, dir.path())
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        ordo_testkit::printed(&output).starts_with("ordo "),
        "{}",
        ordo_testkit::printed(&output)
    );
}

#[test]
fn configuration_errors_name_the_key_and_secrets_stay_hidden() {
    let dir = ordo_testkit::temp_dir();
    let bad = ordo(&Backend::Sqlite, dir.path())
        .args(["config", "check"])
        .env("ORDO_HTTP__BODY_LIMIT_BYTES", "lots")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        ordo_testkit::printed(&bad)
            .to_lowercase()
            .contains("http.body_limit_bytes"),
        "{}",
        ordo_testkit::printed(&bad)
    );

    std::fs::write(
        dir.path().join("ordo.toml"),
        "[identity]\naccess_token_ttl_secs = 5\n",
    )
    .unwrap();
    let invalid = ordo(&Backend::Sqlite, dir.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!invalid.status.success());
    assert!(
        ordo_testkit::printed(&invalid).contains("identity.access_token_ttl_secs"),
        "{}",
        ordo_testkit::printed(&invalid)
    );
    std::fs::remove_file(dir.path().join("ordo.toml")).unwrap();

    let good = ordo(&Backend::Sqlite, dir.path())
        .args(["config", "check"])
        .env(
            "ORDO_DATABASE_URL",
            "postgres://ordo:hunter2-secret@db.internal/ordo",
        )
        .output()
        .unwrap();
    assert!(good.status.success(), "{}", ordo_testkit::printed(&good));
    assert!(
        !ordo_testkit::printed(&good).contains("hunter2-secret"),
        "{}",
        ordo_testkit::printed(&good)
    );
    assert!(ordo_testkit::printed(&good).contains("configuration is valid"));
}

async fn an_operator_bootstraps_an_admin_and_logs_in(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrate = ordo(&backend, dir.path()).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        ordo_testkit::printed(&migrate)
    );
    assert!(ordo_testkit::printed(&migrate).contains("identity: up to date"));

    let mut create = ordo(&backend, dir.path())
        .args(["admin", "create", "--email", "ops@example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(
        created.status.success(),
        "{}",
        ordo_testkit::printed(&created)
    );
    assert!(!ordo_testkit::printed(&created).contains("a long admin password"));

    let again = ordo(&backend, dir.path())
        .args([
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            "another password",
        ])
        .output()
        .unwrap();
    assert!(!again.status.success(), "the email is taken");

    let rotate = ordo(&backend, dir.path())
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(
        rotate.status.success(),
        "{}",
        ordo_testkit::printed(&rotate)
    );

    let (mut server, url) = listen(ordo(&backend, dir.path()));
    let client = reqwest::Client::new();
    assert!(
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let login: serde_json::Value = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "ops@example.com", "password": "a long admin password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("logged in");
    let users = client
        .get(format!("{url}/api/v1/admin/users"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        users.status(),
        reqwest::StatusCode::OK,
        "the admin may use admin routes"
    );
    terminate(&mut server);
}
backend_test!(admin_bootstrap, an_operator_bootstraps_an_admin_and_logs_in);

async fn dead_letter_and_republish_commands(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let run = |args: &[&str]| ordo(&backend, dir.path()).args(args).output().unwrap();

    let empty = run(&["dlq", "list"]);
    assert!(empty.status.success(), "{}", ordo_testkit::printed(&empty));
    assert!(
        ordo_testkit::printed(&empty).contains("no dead letters"),
        "{}",
        ordo_testkit::printed(&empty)
    );

    let absent = uuid::Uuid::now_v7().to_string();
    for command in ["replay", "discard"] {
        let missing = run(&["dlq", command, &absent]);
        assert!(!missing.status.success());
        assert!(
            ordo_testkit::printed(&missing).contains(&format!("no dead letter {absent}")),
            "{}",
            ordo_testkit::printed(&missing)
        );
    }
    let not_an_id = run(&["dlq", "replay", "seven"]);
    assert!(!not_an_id.status.success());

    let republish = run(&["bus", "republish", "--since", "2026-01-01T00:00:00Z"]);
    assert!(
        republish.status.success(),
        "{}",
        ordo_testkit::printed(&republish)
    );
    assert!(
        ordo_testkit::printed(&republish).contains("identity: 0 events"),
        "{}",
        ordo_testkit::printed(&republish)
    );
    let bad_time = run(&["bus", "republish", "--since", "yesterday"]);
    assert!(!bad_time.status.success());
    assert!(
        ordo_testkit::printed(&bad_time).contains("RFC 3339"),
        "{}",
        ordo_testkit::printed(&bad_time)
    );
}

backend_test!(
    dead_letters_and_republish,
    dead_letter_and_republish_commands
);

/// Runs `ordo bench bus` with `args`; returns the first row of the JSON it wrote, once its
/// table was printed.
fn bus_bench(args: &[&str]) -> serde_json::Value {
    let dir = ordo_testkit::temp_dir();
    let json = dir.path().join("bus.json");
    let output = ordo(&Backend::Sqlite, dir.path())
        .args(["bench", "bus"])
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        ordo_testkit::printed(&output)
    );
    assert!(
        ordo_testkit::printed(&output).contains("events/s"),
        "{}",
        ordo_testkit::printed(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let row = report["rows"][0].clone();
    assert!(row["events_per_sec"].as_f64().unwrap() > 0.0);
    assert!(row["raw_per_sec"].as_f64().unwrap() > 0.0);
    assert!(row["latency_p99_ms"].as_f64().unwrap() >= row["latency_p50_ms"].as_f64().unwrap());
    row
}

#[test]
fn the_bus_benchmark_prints_a_table_and_writes_json() {
    let row = bus_bench(&["--backend", "embedded", "--events", "2000"]);
    assert_eq!(row["backend"], "embedded");
    assert_eq!(row["events"], 2000);
}

#[test]
fn the_bus_benchmark_measures_kafka_beside_its_raw_produce_rate() {
    let test = "the_bus_benchmark_measures_kafka";
    let (Some(Backend::Postgres { url, .. }), Some(kafka)) =
        (ordo_testkit::postgres(test), ordo_testkit::kafka(test))
    else {
        return;
    };
    let row = bus_bench(&[
        "--backend",
        "kafka",
        "--events",
        "2000",
        "--rate",
        "4000",
        "--kafka-url",
        &kafka,
        "--postgres-url",
        &url,
    ]);
    assert_eq!(row["backend"], "kafka");
    assert_eq!(row["rate"], 4000);
}

#[test]
fn the_gateway_benchmark_measures_beside_envoy() {
    let dir = ordo_testkit::temp_dir();
    let json = dir.path().join("gateway.json");
    let output = ordo(&Backend::Sqlite, dir.path())
        .args([
            "bench",
            "gateway",
            "--seconds",
            "1",
            "--clients",
            "2",
            "--rate",
            "100",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        ordo_testkit::printed(&output)
    );
    assert!(
        ordo_testkit::printed(&output).contains("ratio to envoy: "),
        "{}",
        ordo_testkit::printed(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let paths: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["run"].as_str().unwrap(), r["scenario"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        [
            ("closed", "direct"),
            ("closed", "gateway"),
            ("closed", "envoy"),
            ("open", "direct"),
            ("open", "gateway"),
            ("open", "envoy"),
        ]
    );
    assert!(
        rows.iter().all(|r| r["ok"].as_u64().unwrap() > 0),
        "{rows:?}"
    );
}

/// `GET /healthz` over TLS from a client that trusts `trusted` alone: the answer's head.
async fn healthz_over_tls(
    address: std::net::SocketAddr,
    trusted: &tokio_rustls::rustls::pki_types::CertificateDer<'static>,
) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = ordo_testkit::tls_connect(address, trusted).await?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    while !String::from_utf8_lossy(&answer).contains("\"ok\"") {
        let mut chunk = [0u8; 1024];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// `ordo serve` over HTTPS from PEM files; after `kill -HUP`, new connections get the
/// renewed certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_and_a_hangup_reads_the_certificate_again() {
    let dir = ordo_testkit::temp_dir();
    let first = ordo_testkit::certificate(dir.path());
    let mut command = ordo(&Backend::Sqlite, dir.path());
    command
        .env("ORDO_HTTP__TLS_CERT_FILE", dir.path().join("cert.pem"))
        .env("ORDO_HTTP__TLS_KEY_FILE", dir.path().join("key.pem"));
    let (server, url) = listen(command);
    let address: std::net::SocketAddr = url
        .strip_prefix("https://")
        .expect("served over https")
        .parse()
        .unwrap();
    let answer = healthz_over_tls(address, &first).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_lowercase().contains("strict-transport-security"),
        "{answer}"
    );

    let second = ordo_testkit::certificate(dir.path());
    let hangup = std::process::Command::new("kill")
        .args(["-HUP", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    // The signal is handled in the background: asked until the new certificate is served.
    let deadline = Instant::now() + Duration::from_secs(60);
    let renewed = loop {
        if let Ok(answer) = healthz_over_tls(address, &second).await {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate is never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(renewed.starts_with("HTTP/1.1 200"), "{renewed}");
    assert!(
        healthz_over_tls(address, &first).await.is_err(),
        "the old one is gone"
    );

    // The container health check asks over HTTPS too, trusting the served certificate.
    let probe = |listen: String, live: bool| {
        let mut command = ordo(&Backend::Sqlite, dir.path());
        command
            .env("ORDO_HTTP__TLS_CERT_FILE", dir.path().join("cert.pem"))
            .env("ORDO_HTTP__TLS_KEY_FILE", dir.path().join("key.pem"))
            .args(["probe", "--listen", &listen]);
        if live {
            command.arg("--live");
        }
        command.output().unwrap()
    };
    for live in [false, true] {
        let probed = probe(address.to_string(), live);
        let printed = ordo_testkit::printed(&probed);
        assert!(probed.status.success(), "{printed}");
        assert!(printed.contains("200 OK"), "{printed}");
    }
    let nobody = format!("127.0.0.1:{}", ordo_testkit::free_port());
    let refused = probe(nobody.clone(), false);
    let printed = ordo_testkit::printed(&refused);
    assert!(!refused.status.success(), "{printed}");
    assert!(printed.contains(&nobody), "{printed}");
}

/// An upstream that answers every request with its `name`, ready at once.
async fn upstream(name: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || async move { name });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// `ordo.toml` routing every service to `everyone` but the catalogue, to `catalog`.
fn routes_file(path: &std::path::Path, everyone: &str, catalog: &str) {
    let services = [
        "identity",
        "catalog",
        "inventory",
        "cart",
        "payments",
        "delivery",
        "notifications",
        "orders",
        "reviews",
        "analytics",
        "search",
    ];
    let file: String = services
        .iter()
        .map(|service| {
            let url = if *service == "catalog" {
                catalog
            } else {
                everyone
            };
            format!("[services.{service}]\nurls = [\"{url}\"]\n")
        })
        .collect();
    std::fs::write(path, file).unwrap();
}

/// The gateway reads its configuration again at a `SIGHUP`: a service moved to other
/// instances is routed there from then on, without a restart; a file that cannot be read
/// keeps the routes as they were.
#[tokio::test]
async fn the_gateway_reads_its_routes_again_at_a_hangup() {
    let (first, second) = (upstream("first").await, upstream("second").await);
    let dir = ordo_testkit::temp_dir();
    let file = dir.path().join("ordo.toml");
    routes_file(&file, &first, &first);
    let mut command = ordo(&Backend::Sqlite, dir.path());
    command.env("ORDO_CONFIG", &file);
    let (gateway, url) = support::serving(command, "gateway", "ordo gateway is serving on ");
    let menu = || async {
        reqwest::get(format!("{url}/api/v1/merchants"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(menu().await, "first");
    let metrics = || async {
        reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // The signal is handled in the background: what it did is counted once done.
    let hangup = |outcome: &'static str| {
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &gateway.0.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let counted = format!("gateway_route_table_reads_total{{outcome=\"{outcome}\"}} 1");
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !metrics().await.contains(&counted) {
                assert!(Instant::now() < deadline, "never counted: {counted}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    routes_file(&file, &first, &second);
    hangup("read").await;
    for _ in 0..10 {
        assert_eq!(menu().await, "second", "only the new instance");
    }
    let search = reqwest::get(format!("{url}/api/v1/search?q=soup"))
        .await
        .unwrap();
    assert_eq!(search.text().await.unwrap(), "first", "the others stay");

    std::fs::write(&file, "[services.catalog\nurls = ").unwrap();
    hangup("refused").await;
    assert_eq!(menu().await, "second", "a broken file keeps the routes");
}

/// The demo city: loaded once, and a newcomer orders with it straight away.
async fn a_newcomer_orders_in_the_demo_city(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let first = ordo(&backend, dir.path()).arg("demo").output().unwrap();
    assert!(first.status.success(), "{}", ordo_testkit::printed(&first));
    let printed = ordo_testkit::printed(&first);
    let password = printed
        .lines()
        .find(|line| line.contains("ada@demo.ordo.dev"))
        .and_then(|line| line.split_whitespace().nth(2))
        .expect("ada's password is printed")
        .to_owned();
    let again = ordo(&backend, dir.path()).arg("demo").output().unwrap();
    assert!(again.status.success());
    assert!(
        ordo_testkit::printed(&again).contains("already loaded"),
        "{}",
        ordo_testkit::printed(&again)
    );

    let (mut server, url) = listen(ordo(&backend, dir.path()));
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{url}/api/v1{path}");
    let login: serde_json::Value = client
        .post(api("/auth/login"))
        .json(&serde_json::json!({"email": "ada@demo.ordo.dev", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .expect("ada logs in")
        .to_owned();
    let get = |path: String| {
        let request = client.get(api(&path)).bearer_auth(&token);
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let card = get("/me/payment-methods".into()).await["items"][0]["id"].clone();
    let address = get("/me/addresses".into()).await["items"][0]["id"].clone();
    let near = get("/merchants?near=52.5389,13.41&radius_km=5".into()).await;
    assert_eq!(
        near["items"][0]["name"], "Trattoria Luigi",
        "the nearest first"
    );
    let merchant = near["items"][0]["id"].as_str().unwrap().to_owned();
    let menu = get(format!("/merchants/{merchant}/products")).await;
    let product = menu["items"][0]["id"].clone();
    let order: serde_json::Value = client
        .post(api("/orders"))
        .bearer_auth(&token)
        .header("idempotency-key", "first-order")
        .json(&serde_json::json!({
            "items": [{"product_id": product, "quantity": 2}],
            "fulfilment": "delivery", "address_id": address, "payment_method_id": card
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = order["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the order is placed: {order}"))
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get(format!("/orders/{id}/status")).await["status"] != "paid" {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo order is never paid"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    terminate(&mut server);
}

backend_test!(demo_city, a_newcomer_orders_in_the_demo_city);

/// The public API of a running server, as one client with a token sees it.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
}

/// A call's status, headers and JSON body (`null` when it had none).
type Answer = Result<
    (
        reqwest::StatusCode,
        reqwest::header::HeaderMap,
        serde_json::Value,
    ),
    reqwest::Error,
>;

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, headers, body))
    }

    /// As `call`, sent again with the same key after the `Retry-After` of every `503`, as a
    /// client does: a loaded machine's pools may be busy for a while (at most 30 tries).
    async fn call_until_served(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        key: Option<&str>,
    ) -> Answer {
        for _ in 0..30 {
            let answer = self.call(method.clone(), path, token, body, key).await?;
            if answer.0 != reqwest::StatusCode::SERVICE_UNAVAILABLE {
                return Ok(answer);
            }
            let wait = answer
                .1
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
        self.call(method, path, token, body, key).await
    }

    /// The orders of these customers, every page.
    async fn orders_of(
        &self,
        tokens: impl Iterator<Item = &String>,
    ) -> std::collections::HashSet<String> {
        let mut listed = std::collections::HashSet::new();
        for token in tokens {
            let mut cursor = String::new();
            loop {
                let path = format!("/orders?limit=100{cursor}");
                let (status, _, page) = self
                    .call(reqwest::Method::GET, &path, Some(token), None, None)
                    .await
                    .unwrap();
                assert_eq!(status, reqwest::StatusCode::OK, "{page}");
                for order in page["items"].as_array().unwrap() {
                    assert!(listed.insert(order["id"].as_str().unwrap().to_owned()));
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => break,
                }
            }
        }
        listed
    }

    /// A product's stock level, as its merchant sees it.
    async fn stock(&self, owner: &str, product_id: &str) -> serde_json::Value {
        let path = format!("/products/{product_id}/stock");
        let (status, _, level) = self
            .call(reqwest::Method::GET, &path, Some(owner), None, None)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{level}");
        level
    }
}

const CRASH_ORDERS: usize = 3_000;
const CRASH_AFTER_ACKS: usize = 1_000;
const CRASH_CUSTOMERS: usize = 16;
const CRASH_STOCK: u64 = 100_000;

/// One checkout of the crash test: who places it, with which key.
struct Checkout {
    customer: usize,
    key: String,
}

/// A `kill -9` while 3 000 orders are being placed, 64 at a time. After the restart the
/// clients retry every key: each order acknowledged before the kill comes back as it was,
/// every key has exactly one order, and the stock held is exactly the orders' — a checkout
/// cut short by the kill finds its reservation again rather than holding stock twice.
async fn a_kill_during_checkouts_loses_no_order_and_holds_no_stock_twice(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let command = || {
        let mut command = ordo(&backend, dir.path());
        command.env("ORDO_RATE_LIMIT__ENABLED", "false");
        command
    };
    let (mut server, url) = listen(command());
    let api = Api {
        client: reqwest::Client::new(),
        base: url,
    };
    let base = format!("{}/api/v1", api.base);
    let shop =
        ordo_app::bench::shop::setup(&api.client, &base, CRASH_CUSTOMERS, (CRASH_STOCK, 1), 1)
            .await
            .unwrap();
    let product_id = shop.product().to_owned();
    let owner = shop.owner;
    let customers: Vec<(String, serde_json::Value)> = shop
        .customers
        .into_iter()
        .map(|(token, card)| {
            let body = serde_json::json!({
                "items": [{"product_id": product_id, "quantity": 1}],
                "fulfilment": "pickup", "payment_method_id": card
            });
            (token, body)
        })
        .collect();
    let customers = std::sync::Arc::new(customers);
    let checkouts: std::sync::Arc<Vec<Checkout>> = std::sync::Arc::new(
        (0..CRASH_ORDERS)
            .map(|n| Checkout {
                customer: n % CRASH_CUSTOMERS,
                key: format!("crash-{n}"),
            })
            .collect(),
    );
    let place = |api: Api, n: usize| {
        let (customers, checkouts) = (customers.clone(), checkouts.clone());
        async move {
            let checkout = &checkouts[n];
            let (token, body) = &customers[checkout.customer];
            let answer = api
                .call(
                    reqwest::Method::POST,
                    "/orders",
                    Some(token),
                    Some(body),
                    Some(&checkout.key),
                )
                .await;
            (n, answer)
        }
    };

    // Before the kill: 64 at a time; the server dies after the thousandth acknowledgement
    // with the next 64 in flight.
    let mut acknowledged: std::collections::HashMap<usize, String> = Default::default();
    let mut refused_for_time = 0;
    let mut in_flight = tokio::task::JoinSet::new();
    let mut next = 0;
    let mut killed = false;
    while next < CRASH_ORDERS || !in_flight.is_empty() {
        while !killed && next < CRASH_ORDERS && in_flight.len() < 64 {
            in_flight.spawn(place(api.clone(), next));
            next += 1;
        }
        let Some(done) = in_flight.join_next().await else {
            break;
        };
        let (n, answer) = done.unwrap();
        match answer {
            Ok((reqwest::StatusCode::CREATED, _, order)) => {
                acknowledged.insert(n, order["id"].as_str().unwrap().to_owned());
            }
            Ok((reqwest::StatusCode::SERVICE_UNAVAILABLE, _, _)) => refused_for_time += 1,
            Ok((status, _, body)) => panic!("checkout {n} before the kill: {status} {body}"),
            Err(_) => assert!(killed, "only the kill cuts a request short"),
        }
        if !killed && acknowledged.len() == CRASH_AFTER_ACKS {
            server.0.kill().unwrap();
            server.0.wait().unwrap();
            killed = true;
        }
    }
    assert!(killed);

    // After the restart every key is retried until it is answered with its order.
    let (mut server, url) = listen(command());
    let api = Api { base: url, ..api };
    let placed = api
        .orders_of(customers.iter().map(|(token, _)| token))
        .await;
    let level = api.stock(&owner, &product_id).await;
    let held = i64::try_from(CRASH_STOCK).unwrap() - level["available"].as_i64().unwrap();
    // What the retries must find again rather than hold twice; how many the kill left
    // depends on where it struck.
    eprintln!(
        "after the kill: {} orders, {held} units held: {} checkouts cut short holding stock",
        placed.len(),
        held - i64::try_from(placed.len()).unwrap()
    );
    let mut orders: Vec<Option<String>> = vec![None; CRASH_ORDERS];
    let mut pending: Vec<usize> = (0..CRASH_ORDERS).collect();
    for round in 0.. {
        assert!(round < 60, "still unanswered after 60 rounds: {pending:?}");
        if pending.is_empty() {
            break;
        }
        let mut requests = tokio::task::JoinSet::new();
        let mut retry_after = std::time::Duration::ZERO;
        let mut later = Vec::new();
        for chunk in pending.chunks(64) {
            for &n in chunk {
                requests.spawn(place(api.clone(), n));
            }
            while let Some(done) = requests.join_next().await {
                let (n, answer) = done.unwrap();
                let (status, headers, body) = answer.unwrap();
                match status {
                    reqwest::StatusCode::CREATED => {
                        orders[n] = Some(body["id"].as_str().unwrap().to_owned());
                    }
                    // Still claimed by a request the kill cut short, or too slow now.
                    reqwest::StatusCode::CONFLICT | reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                        let wait = headers
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()?.parse().ok())
                            .unwrap_or_else(|| panic!("{status} without Retry-After: {body}"));
                        retry_after = retry_after.max(std::time::Duration::from_secs(wait));
                        later.push(n);
                    }
                    _ => panic!("checkout {n} after the restart: {status} {body}"),
                }
            }
        }
        pending = later;
        if !pending.is_empty() {
            tokio::time::sleep(retry_after).await;
        }
    }
    for (n, id) in &acknowledged {
        assert_eq!(
            orders[*n].as_ref(),
            Some(id),
            "checkout {n} was acknowledged before the kill: its retry gets the same order"
        );
    }

    // One order per key, and no other order.
    let listed = api
        .orders_of(customers.iter().map(|(token, _)| token))
        .await;
    let answered: std::collections::HashSet<String> = orders.into_iter().flatten().collect();
    assert_eq!(answered.len(), CRASH_ORDERS, "one order per key");
    assert_eq!(
        listed, answered,
        "the customers' orders are the keys' orders"
    );

    // The stock held is the orders', at once: no reservation was made twice. A checkout
    // that was answered 503 before the kill gave its stock back through the bus, so then
    // only eventually.
    let expected = i64::try_from(CRASH_STOCK).unwrap() - i64::try_from(CRASH_ORDERS).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let level = api.stock(&owner, &product_id).await;
        let available = level["available"].as_i64().unwrap();
        if available == expected {
            break;
        }
        assert!(
            refused_for_time > 0 && std::time::Instant::now() < deadline,
            "available {available}, but {CRASH_ORDERS} orders of {CRASH_STOCK}: {level}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    terminate(&mut server);
}

backend_test!(
    kill_during_checkouts,
    a_kill_during_checkouts_loses_no_order_and_holds_no_stock_twice
);

/// Waits for a log line containing `wanted`; what follows it in the line.
async fn line_with(
    lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    wanted: &str,
) -> String {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.recv())
            .await
            .unwrap_or_else(|_| panic!("no log line with `{wanted}` within a minute"))
            .unwrap_or_else(|| panic!("ordo serve exited before logging `{wanted}`"));
        if let Some(rest) = line.split(wanted).nth(1) {
            return rest.to_owned();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// `ordo serve` started before its database can be reached (a first start behind a slow
/// network, a restart right after a crash while PostgreSQL restarts too) waits for it,
/// alive and not ready, and serves once it comes: nobody has to start it again.
async fn a_start_waits_for_a_database_that_cannot_be_reached_yet() {
    let Some(Backend::Postgres { url, schema_prefix }) =
        ordo_testkit::postgres("a_start_waits_for_a_database_that_cannot_be_reached_yet")
    else {
        return;
    };
    let proxy = TcpProxy::in_front_of(&url).await;
    proxy.cut();
    let backend = Backend::Postgres {
        url: proxy.url_for(&url),
        schema_prefix,
    };
    let dir = ordo_testkit::temp_dir();
    let mut child = ordo(&backend, dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut server = Server(child);
    let (send, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let base = line_with(&mut lines, "ordo is starting on ").await;
    let base = base.split_whitespace().next().unwrap().to_owned();
    line_with(&mut lines, "the database cannot be reached yet").await;

    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    let alive = get("/healthz").await.unwrap();
    assert_eq!(alive.status(), StatusCode::OK, "alive while it waits");
    let alive: serde_json::Value = alive.json().await.unwrap();
    assert_eq!(alive["status"], "starting");
    assert_eq!(
        get("/readyz").await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let refused = get("/api/v1/merchants").await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );

    proxy.restore();
    line_with(&mut lines, "ordo is serving on ").await;
    // Readiness is measured every second once serving; the server is polled, not waited
    // on, since it is another process.
    let deadline = Instant::now() + Duration::from_secs(60);
    while get("/readyz").await.unwrap().status() != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "never ready after the database came"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let merchants = get("/api/v1/merchants").await.unwrap();
    assert_eq!(merchants.status(), StatusCode::OK);
    // The log goes on being read, so the server never blocks on a full pipe.
    tokio::spawn(async move { while lines.recv().await.is_some() {} });
    terminate(&mut server);
}

// A `kill -9` while orders are being placed, then every order cancelled at once after the
// restart: the events the outbox relays again after the crash come together with the
// cancellations, and a broker redelivers what was not acknowledged after its ack wait
// while later events flow. On every bus backend, whatever arrives first: no card stays
// authorised on a cancelled order, every cancellation is told to its customer, the
// reports count what the database holds, and nothing is dead-lettered.

const CANCEL_CLIENTS: usize = 6;
/// The kill comes after this many orders are acknowledged, the next ones in flight.
const CANCEL_KILL_AFTER: usize = 120;
const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "a long admin password";

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
    let shop = ordo_app::bench::shop::setup(
        &client,
        &format!("{url}/api/v1"),
        CANCEL_CLIENTS,
        (1_000_000, 1),
        1,
    )
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
        let api = api.clone();
        cancels.spawn(async move {
            let answer = api.call_until_served(Method::POST, &path, Some(&token), None, None);
            answer.await
        });
    }
    while let Some(done) = cancels.join_next().await {
        let (status, _, body) = done.unwrap().unwrap();
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
        let cancelled: Vec<uuid::Uuid> = orders
            .fetch_all::<(uuid::Uuid,)>(
                "SELECT id FROM orders WHERE status = 'cancelled'",
                ordo_db::params![],
            )
            .await
            .unwrap()
            .into_iter()
            .map(|(id,)| id)
            .collect();
        let authorised: i64 = count(
            &payments,
            "SELECT COUNT(*) FROM payments WHERE status = 'authorized' AND order_id IN",
            &cancelled,
        )
        .await;
        let told: i64 = count(&notifications, "SELECT COUNT(DISTINCT order_id) FROM notifications WHERE kind = 'order_cancelled' AND order_id IN", &cancelled).await;
        let (status, _, report) = api
            .call_until_served(
                Method::GET,
                "/admin/reports/summary",
                Some(&admin),
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{report}");
        let reported: i64 = report["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|bucket| bucket["cancelled"].as_i64().unwrap())
            .sum();
        let (status, _, letters) = api
            .call_until_served(Method::GET, "/admin/dead-letters", Some(&admin), None, None)
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

/// Places orders from every client until `CANCEL_KILL_AFTER` are acknowledged, then kills the
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
        let customer = n % CANCEL_CLIENTS;
        let (token, card) = shop.customers[customer].clone();
        let body = json!({
            "items": [{"product_id": shop.product(), "quantity": 1}],
            "fulfilment": "pickup", "payment_method_id": card
        });
        let api = api.clone();
        async move {
            let key = format!("crash-{n}");
            let answer = api
                .call_until_served(
                    Method::POST,
                    "/orders",
                    Some(&token),
                    Some(&body),
                    Some(&key),
                )
                .await;
            (customer, answer)
        }
    };
    for _ in 0..CANCEL_CLIENTS {
        in_flight.spawn(place(next));
        next += 1;
    }
    while let Some(done) = in_flight.join_next().await {
        let (customer, answer) = done.unwrap();
        if let Ok((status, _, order)) = answer {
            assert_eq!(status, StatusCode::CREATED, "{order}");
            placed.insert(order["id"].as_str().unwrap().to_owned(), customer);
        }
        if placed.len() >= CANCEL_KILL_AFTER {
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
async fn count(db: &ordo_db::Db, query: &str, ids: &[uuid::Uuid]) -> i64 {
    let mut total = 0;
    for chunk in ids.chunks(200) {
        let sql = format!("{query} ({})", ordo_db::sql::placeholders(1, chunk.len()));
        let params: Vec<ordo_db::Value> = chunk.iter().map(ordo_db::Encode::encode).collect();
        let (n,): (i64,) = db.fetch_one(&sql, &params).await.unwrap();
        total += n;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_then_cancellations_embedded_sqlite() {
    a_kill_then_cancellations_leave_no_card_authorised(Backend::Sqlite, Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_then_cancellations_nats_postgres() {
    let test = "kill_then_cancellations_nats_postgres";
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

/// Sends `GET /healthz` on an open keep-alive connection and reads the answer's head and
/// body (`content-length` long).
async fn healthz_on(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: ordo\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
            head.lines()
                .find_map(|line| {
                    line.to_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|length| length.trim().parse::<usize>().ok())
                .is_some_and(|length| body.len() >= length)
        });
        if complete || n == 0 {
            return text;
        }
    }
}

#[tokio::test]
async fn connections_past_the_cap_are_told_to_come_back_and_never_fail() {
    let dir = ordo_testkit::temp_dir();
    let mut command = ordo(&Backend::Sqlite, dir.path());
    command.env("ORDO_HTTP__MAX_CONNECTIONS", "4");
    let (_server, url) = listen(command);
    let address = url.trim_start_matches("http://").to_owned();
    let mut admitted = Vec::new();
    for _ in 0..4 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let answer = healthz_on(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        admitted.push(stream);
    }
    let mut fifth = tokio::net::TcpStream::connect(&address).await.unwrap();
    let refused = healthz_on(&mut fifth).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("retry-after: 1"), "{refused}");
    assert!(
        refused.contains("application/problem+json") && refused.contains("\"status\":503"),
        "{refused}"
    );
    // The connections admitted are served on.
    let again = healthz_on(&mut admitted[0]).await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    // One closes; its place goes to the next client (once the server has seen it close).
    drop(admitted.pop());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut next = tokio::net::TcpStream::connect(&address).await.unwrap();
        let answer = healthz_on(&mut next).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(
            Instant::now() < deadline,
            "the closed connection's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
