//! Benchmarks (not tests): each prints a table and writes JSON, with the machine it ran on.

pub mod bus;
pub mod chart;
pub mod checkout;
pub mod delivery;
pub mod gateway;
pub mod read;
pub mod reports;
pub mod search;
pub mod shop;

use crate::config::Config;
use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct Report<R> {
    pub machine: String,
    pub cores: usize,
    pub rows: Vec<R>,
}

impl<R: Serialize> Report<R> {
    pub fn new(rows: Vec<R>) -> Self {
        Report {
            machine: machine(),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            rows,
        }
    }

    /// Writes the report as JSON to `path`, creating its directory.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("\nwritten to {}", path.display());
        Ok(())
    }
}

/// The platform a measurement drives, in this process on `dir`: one address plays every
/// client (so the rate limits, which are for people, are off) and no line is logged per
/// request.
#[must_use]
pub fn embedded(dir: &Path) -> Config {
    let mut config = Config {
        listen: ([127, 0, 0, 1], 0).into(),
        data_dir: dir.to_path_buf(),
        log_level: "warn".into(),
        ..Config::default()
    };
    config.rate_limit.enabled = false;
    let generous = ordo_http::ratelimit::Quota {
        per_minute: 1_000_000_000,
        burst: 1_000_000,
    };
    config.identity.login_per_ip = generous;
    config.identity.login_per_account = generous;
    config.identity.login_per_account_and_ip = generous;
    config.delivery.location_limit = generous;
    config
}

fn machine() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// A latency distribution as a report shows it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latencies {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl From<&Histogram<u64>> for Latencies {
    fn from(h: &Histogram<u64>) -> Self {
        Latencies {
            p50_ms: ms(h, 0.5),
            p90_ms: ms(h, 0.9),
            p99_ms: ms(h, 0.99),
            max_ms: h.max() as f64 / 1000.0,
        }
    }
}

pub fn histogram() -> Histogram<u64> {
    // Microseconds up to a minute, three significant figures: bounds that are always valid.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

pub fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Prints `label`, the seconds so far and the count of `ok` answers on one line each second,
/// until the returned guard is dropped.
fn progress(label: &str, ok: Arc<AtomicU64>) -> ProgressLine {
    let label = label.to_owned();
    let started = Instant::now();
    ProgressLine(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut before = 0;
        loop {
            tick.tick().await;
            let now = ok.load(Ordering::Relaxed);
            print!(
                "\r{label}: {:>3} s, {now:>8} answered 2xx, {:>7}/s   ",
                started.elapsed().as_secs(),
                now - before
            );
            let _ = std::io::Write::flush(&mut std::io::stdout());
            before = now;
        }
    }))
}

struct ProgressLine(tokio::task::JoinHandle<()>);

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.0.abort();
        println!();
    }
}

/// `clients` clients calling `request(client, n)` back to back for `seconds` (closed loop):
/// how many answered 2xx, and their latencies.
pub async fn hammer<F, Fut>(
    label: &str,
    clients: usize,
    seconds: u64,
    request: F,
) -> anyhow::Result<(u64, Histogram<u64>)>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let latency = Arc::new(Mutex::new(histogram()));
    let ok = Arc::new(AtomicU64::new(0));
    let _progress = progress(label, ok.clone());
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (latency, request, ok) = (latency.clone(), request.clone(), ok.clone());
        tasks.spawn(async move {
            let mut n = 0_u64;
            let mut mine = histogram();
            while Instant::now() < until {
                let sent = Instant::now();
                if request(client, n).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                mine.saturating_record(micros(sent.elapsed()));
                n += 1;
            }
            if let Ok(mut all) = latency.lock() {
                let _ = all.add(&mine);
            }
        });
    }
    gathered(tasks, &latency, &ok).await
}

/// Calls `request(n)` at `rate` a second for `seconds` (open loop): each at its intended
/// time, answered or not the ones before, its latency measured from that intended time so
/// that a stall shows in the figures rather than slowing the sender. How many answered
/// 2xx, and their latencies.
pub async fn open_loop<F, Fut>(
    label: &str,
    rate: f64,
    seconds: u64,
    request: F,
) -> anyhow::Result<(u64, Histogram<u64>)>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    anyhow::ensure!(rate > 0.0 && rate.is_finite(), "the rate must be positive");
    let latency = Arc::new(Mutex::new(histogram()));
    let ok = Arc::new(AtomicU64::new(0));
    let _progress = progress(label, ok.clone());
    let start = tokio::time::Instant::now();
    let gap = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * seconds as f64).round() as u64;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        let intended = start + gap.mul_f64(n as f64);
        tokio::time::sleep_until(intended).await;
        let (latency, request, ok) = (latency.clone(), request.clone(), ok.clone());
        tasks.spawn(async move {
            if request(n).await {
                ok.fetch_add(1, Ordering::Relaxed);
            }
            let took = micros(intended.elapsed());
            if let Ok(mut all) = latency.lock() {
                all.saturating_record(took);
            }
        });
    }
    gathered(tasks, &latency, &ok).await
}

/// Waits for a load's tasks: how many answered 2xx, and their latencies.
async fn gathered(
    mut tasks: tokio::task::JoinSet<()>,
    latency: &Mutex<Histogram<u64>>,
    ok: &AtomicU64,
) -> anyhow::Result<(u64, Histogram<u64>)> {
    while let Some(done) = tasks.join_next().await {
        done?;
    }
    let latency = latency
        .lock()
        .map_err(|_| anyhow::anyhow!("latency histogram poisoned"))?
        .clone();
    Ok((ok.load(Ordering::Relaxed), latency))
}

/// One scenario of a closed-loop run, beside the `http` ceiling measured first.
#[derive(Debug, Serialize)]
pub struct ScenarioRow {
    pub scenario: &'static str,
    pub clients: usize,
    pub ok: u64,
    pub per_sec: f64,
    #[serde(flatten)]
    pub latency: Latencies,
    pub ratio_to_http: f64,
}

/// A scenario as measured: its name, its answers and their latencies, its seconds.
pub type Measured = (&'static str, (u64, Histogram<u64>), f64);

/// Rows for measured scenarios, the first of which is the ceiling the others are a ratio
/// of.
#[must_use]
pub fn scenario_rows(measured: &[Measured], clients: usize) -> Vec<ScenarioRow> {
    let ceiling_rate = measured
        .first()
        .map_or(1.0, |(_, (ok, _), seconds)| *ok as f64 / seconds);
    measured
        .iter()
        .map(|(scenario, (ok, latency), seconds)| {
            let per_sec = *ok as f64 / seconds;
            ScenarioRow {
                scenario,
                clients,
                ok: *ok,
                per_sec,
                latency: Latencies::from(latency),
                ratio_to_http: per_sec / ceiling_rate.max(f64::MIN_POSITIVE),
            }
        })
        .collect()
}

/// Prints scenario rows as a table under a title naming the benchmark.
pub fn print_scenarios(what: &str, report: &Report<ScenarioRow>) {
    println!(
        "\n{what} benchmark on {} ({} cores; clients in the same process)\n",
        report.machine, report.cores
    );
    print_rows(&report.rows.iter().collect::<Vec<_>>(), "ratio to http");
}

/// Prints scenario rows as a table, `ratio` naming what the last column is a ratio to.
pub fn print_rows(rows: &[&ScenarioRow], ratio: &str) {
    println!(
        "{:<9} {:>7} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8} {:>16}",
        "scenario", "clients", "ok", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", ratio
    );
    for row in rows {
        println!(
            "{:<9} {:>7} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>16.3}",
            row.scenario,
            row.clients,
            row.ok,
            row.per_sec,
            row.latency.p50_ms,
            row.latency.p90_ms,
            row.latency.p99_ms,
            row.latency.max_ms,
            row.ratio_to_http
        );
    }
}
