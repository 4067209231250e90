//! `ordo bench locations` and `ordo bench dispatch`: the delivery service's two hot paths,
//! embedded, over HTTP, each beside a ceiling measured in the same run.
//!
//! - locations: `--clients` clients send `PUT /courier/location` for their couriers as fast
//!   as they are answered; the ceiling is the same clients on `GET /healthz` through the same
//!   gateway (authentication, rate limiting and routing included).
//! - dispatch: `--couriers` couriers online across the city (set up through the delivery use
//!   cases, without accounts), plus one real courier beside each merchant; for each order,
//!   the time from the merchant's accept answered to the offer visible to that courier,
//!   polling its offers back to back. The ceiling is one such poll's round trip: the
//!   resolution of the measurement.

use super::{Report, hammer, histogram, micros, ms};
use crate::platform::Platform;
use crate::sim::SimArgs;
use crate::sim::city::City;
use anyhow::Context;
use ordo_delivery::Delivery;
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{Caller, Role};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct LocationsBench {
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Couriers (accounts), shared out among the clients.
    #[arg(long, default_value_t = 256)]
    couriers: usize,
    /// How long each measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value = "target/bench/locations.json")]
    json: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DispatchBench {
    /// Couriers online in the city besides the measured ones.
    #[arg(long, default_value_t = 10_000)]
    couriers: usize,
    /// Merchants, each with a measured courier beside it.
    #[arg(long, default_value_t = 10)]
    merchants: usize,
    /// Orders to dispatch.
    #[arg(long, default_value_t = 200)]
    orders: usize,
    #[arg(long, default_value = "target/bench/dispatch.json")]
    json: PathBuf,
}

#[derive(Debug, Serialize)]
struct Row {
    scenario: &'static str,
    clients: usize,
    requests: u64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// This row's rate (or, for latencies, its p50) over the ceiling's.
    vs_ceiling: f64,
}

/// Runs the location benchmark.
///
/// # Errors
/// The platform cannot be started or set up.
pub async fn locations(args: LocationsBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0 && args.couriers >= args.clients && args.seconds > 0,
        "--clients must be positive, --couriers at least --clients, --seconds positive"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let running = Platform::start(super::embedded(dir.path()))
        .await
        .context("starting the platform")?;
    let root = format!("http://{}", running.address);
    let city = city(&format!("{root}/api/v1"), args.couriers, 1).await?;
    let tokens: Arc<Vec<(String, (f64, f64))>> = Arc::new(
        city.couriers
            .iter()
            .map(|c| (c.token.clone(), c.at))
            .collect(),
    );
    let client = reqwest::Client::new();

    let health = format!("{root}/healthz");
    let ceiling_client = client.clone();
    let (ceiling, ceiling_latency) =
        hammer("GET /healthz", args.clients, args.seconds, move |_, _| {
            let (client, url) = (ceiling_client.clone(), health.clone());
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await?;

    let url = format!("{root}/api/v1/courier/location");
    let clients = args.clients;
    let (taken, latency) = hammer(
        "PUT /courier/location",
        args.clients,
        args.seconds,
        move |c, n| {
            let (client, url, tokens) = (client.clone(), url.clone(), tokens.clone());
            async move {
                // Each client cycles through its own couriers, each wandering a few metres.
                let mine = tokens.len() / clients;
                let index = c * mine + usize::try_from(n).unwrap_or(0) % mine.max(1);
                let (token, at) = &tokens[index];
                let wobble = (n % 10) as f64 * 0.00005;
                client
                    .put(url)
                    .bearer_auth(token)
                    .json(&json!({"lat": at.0 + wobble, "lon": at.1}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        },
    )
    .await?;
    running.stop().await?;

    let seconds = args.seconds as f64;
    let ceiling_rate = ceiling as f64 / seconds;
    let rows = vec![
        Row {
            scenario: "GET /healthz (ceiling)",
            clients: args.clients,
            requests: ceiling,
            per_sec: ceiling_rate,
            p50_ms: ms(&ceiling_latency, 0.5),
            p99_ms: ms(&ceiling_latency, 0.99),
            vs_ceiling: 1.0,
        },
        Row {
            scenario: "PUT /courier/location",
            clients: args.clients,
            requests: taken,
            per_sec: taken as f64 / seconds,
            p50_ms: ms(&latency, 0.5),
            p99_ms: ms(&latency, 0.99),
            vs_ceiling: taken as f64 / seconds / ceiling_rate.max(1.0),
        },
    ];
    finish("courier locations", Report::new(rows), &args.json)
}

/// Runs the dispatch benchmark.
///
/// # Errors
/// The platform cannot be started or set up, or an order is not dispatched.
pub async fn dispatch(args: DispatchBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.merchants > 0 && args.orders > 0,
        "--merchants and --orders must be positive"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let running = Platform::start(super::embedded(dir.path()))
        .await
        .context("starting the platform")?;
    let base = format!("http://{}/api/v1", running.address);
    let city = city(&base, 0, args.merchants).await?;
    let api = &city.api;

    // The crowd: couriers all over the city, none within a few hundred metres of a merchant.
    let delivery = running.service::<Delivery>()?;
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..args.couriers {
        let caller = Caller {
            user_id: ordo_kernel::new_id(),
            role: Role::Courier,
        };
        let at = loop {
            let at = crate::sim::city::place(&mut rng);
            let near = city
                .merchants
                .iter()
                .any(|m| ordo_kernel::geo::distance_km(at, m.staff.at) < 0.3);
            if !near {
                break at;
            }
        };
        delivery.set_availability(&caller, true).await?;
        delivery
            .locate(&caller, at.0, at.1, TraceContext::new_root())
            .await?;
    }
    // The measured: one real courier fifty metres from each merchant, asked first.
    let mut measured = Vec::new();
    for (n, merchant) in city.merchants.iter().enumerate() {
        let at = (merchant.staff.at.0 + 0.00045, merchant.staff.at.1);
        let courier = crate::sim::city::courier(api, "bench", n, at).await?;
        measured.push(courier);
    }
    let customer = &city.customers[0];
    let mut dispatch = histogram();
    let mut polls = histogram();
    for n in 0..args.orders {
        let m = n % city.merchants.len();
        let merchant = &city.merchants[m];
        let courier = &measured[m];
        let body = json!({
            "items": [{"product_id": merchant.products[0], "quantity": 1}],
            "fulfilment": "delivery", "address_id": customer.address_id,
            "payment_method_id": customer.card_id,
        });
        let headers = [("idempotency-key", format!("dispatch-{n}"))];
        let order = api
            .call(
                Method::POST,
                "/orders",
                Some(&customer.person.token),
                Some(&body),
                &headers,
            )
            .await?;
        let order = order["id"].as_str().context("order id")?.to_owned();
        let status = format!("/orders/{order}/status");
        while api
            .call(
                Method::GET,
                &status,
                Some(&customer.person.token),
                None,
                &[],
            )
            .await?["status"]
            != "paid"
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let accept = format!("/orders/{order}/accept");
        api.call(
            Method::POST,
            &accept,
            Some(&merchant.staff.token),
            None,
            &[],
        )
        .await?;
        let accepted = Instant::now();
        let offer = loop {
            let polled = Instant::now();
            let offers = api
                .call(
                    Method::GET,
                    "/courier/offers",
                    Some(&courier.token),
                    None,
                    &[],
                )
                .await?;
            polls.saturating_record(micros(polled.elapsed()));
            if let Some(offer) = offers["items"]
                .as_array()
                .and_then(|items| items.iter().find(|o| o["order_id"] == order.as_str()))
            {
                break offer.clone();
            }
            anyhow::ensure!(
                accepted.elapsed() < Duration::from_secs(30),
                "order {order} was not offered to the courier beside its merchant"
            );
        };
        dispatch.saturating_record(micros(accepted.elapsed()));
        // Declined, so that the courier stays free for the next.
        let decline = format!(
            "/courier/offers/{}/decline",
            offer["id"].as_str().unwrap_or_default()
        );
        api.call(Method::POST, &decline, Some(&courier.token), None, &[])
            .await?;
    }
    running.stop().await?;
    let rows = vec![
        Row {
            scenario: "GET /courier/offers (ceiling)",
            clients: 1,
            requests: polls.len(),
            per_sec: 0.0,
            p50_ms: ms(&polls, 0.5),
            p99_ms: ms(&polls, 0.99),
            vs_ceiling: 1.0,
        },
        Row {
            scenario: "accepted -> offer visible",
            clients: 1,
            requests: dispatch.len(),
            per_sec: 0.0,
            p50_ms: ms(&dispatch, 0.5),
            p99_ms: ms(&dispatch, 0.99),
            vs_ceiling: ms(&dispatch, 0.5) / ms(&polls, 0.5).max(0.001),
        },
    ];
    println!(
        "{} couriers online besides the {} measured",
        args.couriers, args.merchants
    );
    finish("dispatch", Report::new(rows), &args.json)
}

/// A city for a benchmark: `couriers` couriers with accounts, `merchants` merchants, one
/// customer.
async fn city(base: &str, couriers: usize, merchants: usize) -> anyhow::Result<City> {
    let args = SimArgs {
        customers: 1,
        merchants: merchants.max(1),
        couriers,
        rate: 1.0,
        duration: Duration::from_secs(1),
        target: None,
        seed: 1,
        courier_kmh: 40.0,
        json: PathBuf::new(),
        acknowledged: None,
    };
    City::build(base, &args).await
}

fn finish(what: &str, report: Report<Row>, json: &std::path::Path) -> anyhow::Result<()> {
    println!(
        "{what} benchmark on {} ({} cores)\n",
        report.machine, report.cores
    );
    println!(
        "{:<30} {:>7} {:>9} {:>10} {:>8} {:>8} {:>10}",
        "scenario", "clients", "requests", "per sec", "p50 ms", "p99 ms", "vs ceiling"
    );
    for row in &report.rows {
        println!(
            "{:<30} {:>7} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>10.3}",
            row.scenario,
            row.clients,
            row.requests,
            row.per_sec,
            row.p50_ms,
            row.p99_ms,
            row.vs_ceiling
        );
    }
    report.write(json)
}
