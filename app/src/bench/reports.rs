//! `ordo bench reports`: the operators' report over a large history. Starts the platform in
//! this process (SQLite, in-process bus), feeds the reports `--orders` orders' facts (each
//! placed, then captured or rejected) spread over `--days` days and `--merchants`
//! merchants, through the same use case the bus calls, then `--clients` clients read the
//! platform's summary for the whole period by day, and the first merchant's report (a real
//! merchant of the catalogue; the others exist only in the history), over HTTP for
//! `--seconds` each, beside the HTTP ceiling of the same run.

use super::shop::{ceiling_server, setup};
use super::{Report, hammer};
use crate::platform::Platform;
use anyhow::Context;
use ordo_analytics::Analytics;
use ordo_analytics::Fact;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Instant;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct ReportsBench {
    /// Orders in the history.
    #[arg(long, default_value_t = 1_000_000)]
    orders: u64,
    /// Merchants they are spread over.
    #[arg(long, default_value_t = 2_000)]
    merchants: u64,
    /// Days they are spread over, up to now.
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// Concurrent readers.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long each read runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value = "target/bench/reports.json")]
    json: PathBuf,
}

/// Facts recorded per transaction while feeding.
const FEED_BATCH: u64 = 5_000;

/// Runs the benchmark.
///
/// # Errors
/// The platform cannot be started, fed or read.
pub async fn run(args: ReportsBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.orders > 0 && args.merchants > 0 && args.days > 0 && args.days <= 1_000,
        "--orders and --merchants must be positive, --days 1 to 1000"
    );
    anyhow::ensure!(
        args.clients > 0 && args.seconds > 0,
        "--clients and --seconds must be positive"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let running = Platform::start(super::embedded(dir.path()))
        .await
        .context("starting the platform")?;
    let analytics = running.service::<Analytics>()?;
    let db = running.databases["analytics"].clone();
    let base = format!("http://{}/api/v1", running.address);
    let client = reqwest::Client::new();
    // The first merchant is a real one, whose report the catalogue lets an operator read.
    let shop = setup(&client, &base, 0, (1, 1), 1).await?;
    let merchants: Vec<Uuid> = std::iter::once(shop.merchant.parse()?)
        .chain((1..args.merchants).map(|_| ordo_kernel::new_id()))
        .collect();

    let now = ordo_kernel::time::now();
    let span = Duration::days(i64::try_from(args.days)?);
    let started = Instant::now();
    let mut facts = 0_u64;
    let mut n = 0;
    while n < args.orders {
        let mut tx = db.begin().await?;
        for order in n..(n + FEED_BATCH / 2).min(args.orders) {
            let at = now - span + span * (order as f64 / args.orders as f64);
            let order_id = ordo_kernel::new_id();
            let merchant_id = merchants[usize::try_from(order % args.merchants)?];
            let placed = Fact::Placed {
                order_id,
                merchant_id,
                currency: "EUR".into(),
                total: 1_000 + i64::try_from(order % 4_000)?,
                from_cart: order % 3 == 0,
            };
            let then = if order % 10 == 9 {
                Fact::Rejected {
                    order_id,
                    reason: "sold out".into(),
                }
            } else {
                Fact::Captured {
                    order_id,
                    amount: 1_000,
                }
            };
            for (fact, at) in [(placed, at), (then, at + Duration::minutes(20))] {
                analytics
                    .record(&mut tx, ordo_kernel::new_id(), "bench", at, fact)
                    .await
                    .map_err(anyhow::Error::new)?;
                facts += 1;
            }
        }
        tx.commit().await?;
        n = (n + FEED_BATCH / 2).min(args.orders);
        print!("\rfeeding: {n} orders, {facts} facts");
    }
    let feed_seconds = started.elapsed().as_secs_f64();
    println!(
        "\rfed {} orders ({facts} facts) in {feed_seconds:.0} s: {:.0} facts/s",
        args.orders,
        facts as f64 / feed_seconds
    );

    let token = admin_token(&running, &client, &base).await?;
    let day = |at: OffsetDateTime| at.date().to_string();
    let period = format!(
        "from={}&to={}&bucket=day",
        day(now - span),
        day(now + Duration::DAY)
    );
    let summary_url = format!("{base}/admin/reports/summary?{period}");
    let first: Value = client
        .get(&summary_url)
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let counted: i64 = first["buckets"]
        .as_array()
        .context("a summary")?
        .iter()
        .filter_map(|b| b["orders"].as_i64())
        .sum();
    anyhow::ensure!(
        counted == i64::try_from(args.orders)?,
        "the summary counts {counted} orders, not {}",
        args.orders
    );
    let merchant_url = format!("{base}/merchants/{}/reports?{period}", merchants[0]);

    let (ceiling, ceiling_task) = ceiling_server().await?;
    let echo_url = format!("http://{ceiling}/echo");
    let mut measured = Vec::new();
    for (label, url) in [
        ("http", echo_url),
        ("summary", summary_url),
        ("merchant", merchant_url),
    ] {
        let started = Instant::now();
        let (reader, token) = (client.clone(), token.clone());
        let load = hammer(label, args.clients, args.seconds, move |_, _| {
            let (reader, url, token) = (reader.clone(), url.clone(), token.clone());
            async move {
                let request = if label == "http" {
                    reader.post(&url).json(&json!({"report": "day"}))
                } else {
                    reader.get(&url).bearer_auth(&token)
                };
                request.send().await.is_ok_and(|r| r.status().is_success())
            }
        })
        .await?;
        measured.push((label, load, started.elapsed().as_secs_f64()));
    }
    ceiling_task.abort();
    running.stop().await?;

    let report = Report::new(super::scenario_rows(&measured, args.clients));
    super::print_scenarios("reports", &report);
    println!(
        "history: {} orders, {} merchants, {} days; fed at {:.0} facts/s",
        args.orders,
        args.merchants,
        args.days,
        facts as f64 / feed_seconds
    );
    report.write(&args.json)
}

/// An operator made the way the command line makes one, logged in over HTTP.
async fn admin_token(
    running: &crate::server::Running,
    client: &reqwest::Client,
    base: &str,
) -> anyhow::Result<String> {
    let email = format!("bench-{}@example.com", ordo_kernel::new_id().simple());
    let password = "a benchmark's long password";
    running
        .service::<ordo_identity::Identity>()?
        .create_admin(&email, password)
        .await
        .map_err(|e| anyhow::anyhow!("creating the operator: {e}"))?;
    let login: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    login["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("the operator's token")
}
