//! The Grafana dashboard (`deploy/grafana/ordo.json`) and the recording rules
//! (`deploy/prometheus/rules.yml`) against a real Prometheus: it scrapes the platform of a
//! short `ordo sim`, and every panel's query, and every recording rule, must come back with
//! data from its HTTP API. A metric renamed, a label that does not exist or PromQL that does
//! not parse leaves a panel empty, and the test names it.
//!
//! Prometheus comes from `TEST_PROMETHEUS` (its binary's path, set by `.ci/run`); without
//! it the test says it skipped, and under `CI=true` it fails.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long every query has to come back with data once the city runs.
const WITHIN: Duration = Duration::from_secs(150);

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn deploy(path: &str) -> std::path::PathBuf {
    ordo_testkit::workspace_root().join("deploy").join(path)
}

/// Every panel's queries, with the panel's title.
fn panel_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy("grafana/ordo.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap().to_owned();
            queries.push((title, target["expr"].as_str().unwrap().to_owned()));
        }
    }
    assert!(queries.len() >= 15, "the dashboard has its panels");
    queries
}

/// Every recording rule's name: each is queried as a metric.
fn recorded() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy("prometheus/rules.yml")).unwrap();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("- record: "))
        .map(|name| (format!("recording rule {name}"), name.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_and_recording_rule_has_data_from_a_running_platform() {
    let test = "every_panel_and_recording_rule_has_data_from_a_running_platform";
    let Some(prometheus) = ordo_testkit::required("TEST_PROMETHEUS", "Prometheus", test) else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    let mut sim = Command::new(env!("CARGO_BIN_EXE_ordo"))
        .args(["sim", "--rate", "4/s", "--duration", "240s"])
        .args(["--customers", "40", "--merchants", "4", "--couriers", "30"])
        .arg("--json")
        .arg(dir.path().join("summary.json"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = sim.stdout.take().unwrap();
    let sim = Killed(sim);
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("ordo sim exited before it said where the platform serves")
            .unwrap();
        if let Some(url) = line.strip_prefix("the platform serves http://") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let port = ordo_testkit::free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: ordo\n    static_configs:\n      - targets: ['{address}']\n",
            rules = deploy("prometheus/rules.yml").display(),
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Killed(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {prometheus}: {e}")),
    );
    ordo_testkit::until_listening(port, "prometheus").await;
    let http = reqwest::Client::new();
    // Listening comes before ready: until its storage is open it answers 503 in plain text.
    let started = Instant::now();
    while !http
        .get(format!("http://127.0.0.1:{port}/-/ready"))
        .send()
        .await
        .is_ok_and(|answer| answer.status().is_success())
    {
        assert!(
            started.elapsed() < WITHIN,
            "prometheus did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut waiting: Vec<(String, String)> =
        panel_queries().into_iter().chain(recorded()).collect();
    let started = Instant::now();
    while !waiting.is_empty() && started.elapsed() < WITHIN {
        let mut still = Vec::new();
        for (what, query) in waiting {
            let answer: Value = http
                .get(format!("http://127.0.0.1:{port}/api/v1/query"))
                .query(&[("query", query.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(answer["status"], "success", "{what}: {query} → {answer}");
            let empty = answer["data"]["result"]
                .as_array()
                .is_none_or(Vec::is_empty);
            if empty {
                still.push((what, query));
            }
        }
        waiting = still;
        // Prometheus scrapes every second; its next scrape is what the queries wait for.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    assert!(
        waiting.is_empty(),
        "no data within {WITHIN:?} for:\n{}\n\nprometheus:\n{log}",
        waiting
            .iter()
            .map(|(what, query)| format!("  {what}: {query}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(sim);
}
