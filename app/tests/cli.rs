//! The `ordo` binary as an operator uses it.

use ordo_testkit::{Backend, backend_test};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

fn ordo(backend: &Backend, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ordo"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(data_dir)
        .env_remove("RUST_LOG")
        .env("ORDO_LOG_LEVEL", "info");
    for (key, _) in
        std::env::vars().filter(|(k, _)| k.starts_with("ORDO_") && k != "ORDO_LOG_LEVEL")
    {
        command.env_remove(key);
    }
    if let Backend::Postgres { url, schema_prefix } = backend {
        command
            .env("ORDO_DATABASE_URL", url)
            .env("ORDO_DATABASE_SCHEMA_PREFIX", schema_prefix);
    }
    command
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn version_is_printed() {
    let dir = ordo_testkit::temp_dir();
    let output = ordo(&Backend::Sqlite, dir.path())
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(text(&output).starts_with("ordo "), "{}", text(&output));
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
        text(&bad).to_lowercase().contains("http.body_limit_bytes"),
        "{}",
        text(&bad)
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
        text(&invalid).contains("identity.access_token_ttl_secs"),
        "{}",
        text(&invalid)
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
    assert!(good.status.success(), "{}", text(&good));
    assert!(!text(&good).contains("hunter2-secret"), "{}", text(&good));
    assert!(text(&good).contains("configuration is valid"));
}

/// A running `ordo serve`, killed if a test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ordo serve` on a free port and returns it with its base URL.
fn serve(backend: &Backend, data_dir: &std::path::Path) -> (Server, String) {
    let mut child = ordo(backend, data_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("ordo serve exited before listening")
            .unwrap();
        if let Some(rest) = line.split("ordo is serving on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server(child), url)
}

fn terminate(server: &mut Server) {
    let status = Command::new("kill")
        .arg(server.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "a SIGTERM shutdown is clean: {exit:?}");
}

async fn an_operator_bootstraps_an_admin_and_logs_in(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrate = ordo(&backend, dir.path()).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", text(&migrate));
    assert!(text(&migrate).contains("identity: up to date"));

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
    assert!(created.status.success(), "{}", text(&created));
    assert!(!text(&created).contains("a long admin password"));

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
    assert!(rotate.status.success(), "{}", text(&rotate));

    let (mut server, url) = serve(&backend, dir.path());
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
    assert!(empty.status.success(), "{}", text(&empty));
    assert!(text(&empty).contains("no dead letters"), "{}", text(&empty));

    let absent = uuid::Uuid::now_v7().to_string();
    for command in ["replay", "discard"] {
        let missing = run(&["dlq", command, &absent]);
        assert!(!missing.status.success());
        assert!(
            text(&missing).contains(&format!("no dead letter {absent}")),
            "{}",
            text(&missing)
        );
    }
    let not_an_id = run(&["dlq", "replay", "seven"]);
    assert!(!not_an_id.status.success());

    let republish = run(&["bus", "republish", "--since", "2026-01-01T00:00:00Z"]);
    assert!(republish.status.success(), "{}", text(&republish));
    assert!(
        text(&republish).contains("identity: 0 events"),
        "{}",
        text(&republish)
    );
    let bad_time = run(&["bus", "republish", "--since", "yesterday"]);
    assert!(!bad_time.status.success());
    assert!(text(&bad_time).contains("RFC 3339"), "{}", text(&bad_time));
}

backend_test!(
    dead_letters_and_republish,
    dead_letter_and_republish_commands
);

#[test]
fn the_bus_benchmark_prints_a_table_and_writes_json() {
    let dir = ordo_testkit::temp_dir();
    let json = dir.path().join("bus.json");
    let output = ordo(&Backend::Sqlite, dir.path())
        .args([
            "bench",
            "bus",
            "--backend",
            "embedded",
            "--events",
            "2000",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("events/s"), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let row = &report["rows"][0];
    assert_eq!(row["backend"], "embedded");
    assert_eq!(row["events"], 2000);
    assert!(row["events_per_sec"].as_f64().unwrap() > 0.0);
    assert!(row["raw_per_sec"].as_f64().unwrap() > 0.0);
    assert!(row["latency_p99_ms"].as_f64().unwrap() >= row["latency_p50_ms"].as_f64().unwrap());
}

/// The demo city: loaded once, and a newcomer orders with it straight away.
async fn a_newcomer_orders_in_the_demo_city(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let first = ordo(&backend, dir.path()).arg("demo").output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let printed = text(&first);
    let password = printed
        .lines()
        .find(|line| line.contains("ada@demo.ordo.dev"))
        .and_then(|line| line.split_whitespace().nth(2))
        .expect("ada's password is printed")
        .to_owned();
    let again = ordo(&backend, dir.path()).arg("demo").output().unwrap();
    assert!(again.status.success());
    assert!(text(&again).contains("already loaded"), "{}", text(&again));

    let (mut server, url) = serve(&backend, dir.path());
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
