//! `ordo bench read`: the reads every client makes most, beside the HTTP ceiling of the same
//! run. Starts the platform in this process (SQLite, in-process bus), makes a merchant with a
//! product and one customer per client, each with an order, then the clients read back to
//! back for `--seconds` each: the merchant's menu (`GET /merchants/{id}/products`, public)
//! and their own order (`GET /orders/{id}`, with their token). The ceiling (`http`) is the
//! same clients posting JSON to a trivial handler on this binary's HTTP stack.

use super::shop::{Shop, ceiling_server, place, setup};
use super::{Report, hammer};
use crate::platform::Platform;
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct ReadBench {
    /// Concurrent clients, each a customer of its own.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long each measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value = "target/bench/read.json")]
    json: PathBuf,
}

/// Runs the benchmark.
///
/// # Errors
/// The platform cannot be started or set up.
pub async fn run(args: ReadBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0 && args.seconds > 0,
        "--clients and --seconds must be positive"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let running = Platform::start(super::embedded(dir.path()))
        .await
        .context("starting the platform")?;
    let base = format!("http://{}/api/v1", running.address);
    let client = reqwest::Client::new();
    let Shop {
        merchant,
        products,
        customers,
        ..
    } = setup(&client, &base, args.clients, (1_000_000, 1), 1).await?;
    let mut orders = Vec::with_capacity(customers.len());
    for (n, customer) in customers.iter().enumerate() {
        let key = format!("read-{n}");
        let order = place(&client, &base, &products[0], customer, key)
            .await
            .context("placing the order to read")?;
        orders.push((customer.0.clone(), order));
    }
    let orders = Arc::new(orders);

    let (ceiling, ceiling_task) = ceiling_server().await?;
    let echo_url = format!("http://{ceiling}/echo");
    let timed = |label: &'static str| (label, Instant::now());
    let mut measured = Vec::new();

    let (label, started) = timed("http");
    let echo = client.clone();
    let load = hammer(label, args.clients, args.seconds, move |c, n| {
        let (echo, url) = (echo.clone(), echo_url.clone());
        async move {
            echo.post(&url)
                .json(&json!({"client": c, "n": n}))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await?;
    measured.push((label, load, started.elapsed().as_secs_f64()));
    ceiling_task.abort();

    let (label, started) = timed("menu");
    let menu_url = format!("{base}/merchants/{merchant}/products");
    let menu = client.clone();
    let load = hammer(label, args.clients, args.seconds, move |_, _| {
        let (menu, url) = (menu.clone(), menu_url.clone());
        async move {
            menu.get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await?;
    measured.push((label, load, started.elapsed().as_secs_f64()));

    let (label, started) = timed("order");
    let (reader, order_base) = (client.clone(), base.clone());
    let load = hammer(label, args.clients, args.seconds, move |c, _| {
        let (reader, base, orders) = (reader.clone(), order_base.clone(), orders.clone());
        async move {
            let (token, order) = &orders[c];
            reader
                .get(format!("{base}/orders/{order}"))
                .bearer_auth(token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await?;
    measured.push((label, load, started.elapsed().as_secs_f64()));
    running.stop().await?;

    let report = Report::new(super::scenario_rows(&measured, args.clients));
    super::print_scenarios("read", &report);
    report.write(&args.json)
}
