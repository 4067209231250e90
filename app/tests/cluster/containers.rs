//! The container image (`deploy/build-image`) and the compose platform (`deploy/compose.yaml`)
//! run with podman: the image as a non-root user that its own health check finds healthy;
//! the compose platform's containers taking one order from checkout to the customer's door.
//!
//! `TEST_IMAGE` names the built image (e.g. `localhost/ordo:0.1.0`), `TEST_PODMAN_COMPOSE`
//! podman-compose. PostgreSQL, NATS and Redis are this machine's own (no image can be pulled
//! here), so the compose test starts only the Ordo containers (`--no-deps`), pointed at them.

use crate::cluster::{Api, Shop, until_within};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Starting many containers on vfs storage (each a copy of the image) takes a while.
const STARTED_WITHIN: Duration = Duration::from_secs(300);

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let printed = ordo_testkit::printed(&output);
    assert!(output.status.success(), "{command:?}:\n{printed}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn podman() -> Command {
    Command::new("podman")
}

/// Removes the container when the test ends, passed or failed.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = podman()
            .args(["rm", "--force", "--volumes", "--time", "5", &self.0])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_runs_as_a_non_root_user_and_its_health_check_finds_it_ready() {
    let test = "the_image_runs_as_a_non_root_user_and_its_health_check_finds_it_ready";
    let Some(image) = ordo_testkit::required("TEST_IMAGE", "the Ordo image", test) else {
        return;
    };
    let labels: Value = serde_json::from_str(&run(podman().args([
        "image",
        "inspect",
        "--format",
        "{{json .Labels}}",
        &image,
    ])))
    .unwrap();
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    for label in ["revision", "source", "created"] {
        let value = &labels[format!("org.opencontainers.image.{label}")];
        assert!(
            value.as_str().is_some_and(|v| !v.is_empty()),
            "{label}: {labels}"
        );
    }

    let port = ordo_testkit::free_port();
    let name = format!("ordo-image-test-{}", uuid::Uuid::now_v7().simple());
    // Read-only, as the Kubernetes manifests run it: /data is the image's volume.
    run(podman()
        .args([
            "run",
            "--detach",
            "--read-only",
            "--network",
            "host",
            "--name",
            &name,
        ])
        .args(["--env", &format!("ORDO_LISTEN=127.0.0.1:{port}")])
        .args([&image, "serve", "--demo"]));
    let container = Container(name);

    until_within(
        STARTED_WITHIN,
        "the image's health check passes",
        || async {
            podman()
                .args(["healthcheck", "run", &container.0])
                .output()
                .is_ok_and(|output| output.status.success())
        },
    )
    .await;
    let pid = run(podman().args(["inspect", "--format", "{{.State.Pid}}", &container.0]));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .unwrap();
    assert!(
        uid.split_whitespace().all(|id| id == "65532"),
        "the process runs as {uid}"
    );

    let merchants: Value = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/merchants"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        merchants["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        "the demo city's merchants: {merchants}"
    );
    // A health check that can fail: the probe of a port nothing serves.
    let wrong = podman()
        .args(["exec", &container.0, "/usr/local/bin/ordo", "probe"])
        .args([
            "--listen",
            &format!("127.0.0.1:{}", ordo_testkit::free_port()),
        ])
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "{}", ordo_testkit::printed(&wrong));
}

/// The compose project's Ordo containers, taken down (with their volumes) when the test
/// ends.
struct Compose {
    program: String,
    file: PathBuf,
    project: String,
}

impl Compose {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .arg("--file")
            .arg(&self.file)
            .args(["--project-name", &self.project]);
        command
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        // Each container's own /data is an anonymous volume, which `down --volumes` keeps.
        let label = format!("label=io.podman.compose.project={}", self.project);
        if let Ok(listed) = podman()
            .args(["ps", "--all", "--quiet", "--filter", &label])
            .output()
        {
            let ids = String::from_utf8_lossy(&listed.stdout).into_owned();
            let _ = podman()
                .args(["rm", "--force", "--volumes", "--time", "5"])
                .args(ids.split_whitespace())
                .output();
        }
        let _ = self
            .command()
            .args(["down", "--volumes", "--timeout", "5"])
            .output();
    }
}

/// The servers the compose file runs beside Ordo, which this machine has of its own.
const BACKING: [&str; 3] = ["postgres", "nats", "redis"];

/// The compose file's Ordo containers, and the loopback ports they listen on.
fn ordo_containers(compose: &str) -> (Vec<String>, Vec<u16>) {
    let services = compose
        .split_once("\nservices:\n")
        .and_then(|(_, rest)| rest.split("\nvolumes:").next())
        .expect("a services section");
    let names = services
        .lines()
        .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| !name.starts_with(' ') && !BACKING.contains(name))
        .map(str::to_owned)
        .collect();
    let ports = services
        .lines()
        .filter_map(|line| line.trim().strip_prefix("ORDO_LISTEN:"))
        .map(|listen| listen.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    (names, ports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_platform_takes_an_order_to_the_customers_door() {
    let _alone = crate::ONE_CLUSTER_AT_A_TIME.lock().await;
    let test = "the_compose_platform_takes_an_order_to_the_customers_door";
    let (Some(image), Some(program)) = (
        ordo_testkit::required("TEST_IMAGE", "the Ordo image", test),
        ordo_testkit::required("TEST_PODMAN_COMPOSE", "podman-compose", test),
    ) else {
        return;
    };
    let Some(ordo_testkit::Backend::Postgres { url, schema_prefix }) = ordo_testkit::postgres(test)
    else {
        return;
    };
    let (Some(nats), Some(redis)) = (ordo_testkit::nats(test), ordo_testkit::redis(test)) else {
        return;
    };
    let file = ordo_testkit::workspace_root().join("deploy/compose.yaml");
    let (containers, ports) = ordo_containers(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(containers.len(), 15, "{containers:?}");
    assert_eq!(ports.len(), containers.len(), "{ports:?}");
    // The compose file's loopback ports, which this test cannot move.
    for port in ports {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port}, which deploy/compose.yaml gives an Ordo process, is taken"
        );
    }
    let compose = Compose {
        program,
        file,
        project: format!("ordo-test-{schema_prefix}"),
    };
    let stream = format!("COMPOSE_{schema_prefix}");
    run(compose
        .command()
        .env("ORDO_IMAGE", &image)
        .env("ORDO_DATABASE_URL", &url)
        .env("ORDO_DATABASE_SCHEMA_PREFIX", &schema_prefix)
        .env("ORDO_BUS_URL", &nats)
        .env("ORDO_BUS__STREAM", &stream)
        .env("ORDO_BUS__SUBJECT_PREFIX", &schema_prefix)
        .env("ORDO_REDIS_URL", &redis)
        .env("ORDO_REDIS__PREFIX", format!("{schema_prefix}:"))
        .args(["up", "--detach", "--no-deps"])
        .args(containers));

    let gateways = vec![
        "http://127.0.0.1:8080".to_owned(),
        "http://127.0.0.1:8081".to_owned(),
    ];
    let http = reqwest::Client::new();
    for gateway in &gateways {
        until_within(STARTED_WITHIN, &format!("{gateway} is ready"), || async {
            http.get(format!("{gateway}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
    }

    let api = Api::new(gateways);
    let Shop { owner, pizza, .. } = Shop::open(&api, 5).await;
    let (_, courier) = api.person("courier").await;
    api.json(
        api.request(Method::PUT, "/courier/availability", Some(&courier))
            .json(&json!({"online": true})),
    )
    .await;
    api.request(Method::PUT, "/courier/location", Some(&courier))
        .json(&json!({"lat": 52.501, "lon": 13.4}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let (customer, card) = api.customer_with_card().await;
    let order = api.paid_order(&customer, &card, &pizza, "compose-1").await;
    api.json(api.request(
        Method::POST,
        &format!("/orders/{order}/accept"),
        Some(&owner),
    ))
    .await;
    let delivery = api.take_offer(&courier).await;
    api.json(api.request(
        Method::POST,
        &format!("/orders/{order}/ready"),
        Some(&owner),
    ))
    .await;
    api.deliver(&order, &delivery, [&owner, &courier, &customer])
        .await;
    drop(compose);
    if let Ok(client) = async_nats::connect(nats.as_str()).await {
        let _ = async_nats::jetstream::new(client)
            .delete_stream(&stream)
            .await;
    }
}
