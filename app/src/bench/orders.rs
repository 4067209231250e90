//! `ordo bench orders`: the checkout under load. Starts the platform in this process (on
//! SQLite with the in-process bus, or on PostgreSQL with NATS), sets up a merchant with
//! stock and one customer per client, then `--clients` clients place orders over HTTP as
//! fast as they are answered. Prints orders/s and latency, writes JSON. Payment, stock
//! commits and notifications follow through the bus meanwhile, as in production.

use super::Report;
use crate::platform::Platform;
use anyhow::Context;
use hdrhistogram::Histogram;
use ordo_kernel::Secret;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// SQLite and the in-process bus.
    Embedded,
    /// PostgreSQL and NATS JetStream.
    Postgres,
}

#[derive(Debug, clap::Args)]
pub struct OrdersBench {
    /// Orders to place in all.
    #[arg(long, default_value_t = 5000)]
    orders: usize,
    /// Concurrent clients, each a customer of its own.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    #[arg(long, value_enum, default_value_t = Backend::Embedded)]
    backend: Backend,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    #[arg(long, default_value = "target/bench/orders.json")]
    json: PathBuf,
}

#[derive(Debug, Serialize)]
struct Row {
    backend: Backend,
    clients: usize,
    orders: usize,
    created: usize,
    failed: usize,
    seconds: f64,
    orders_per_sec: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
}

/// Runs the benchmark.
///
/// # Errors
/// The platform or a backend cannot be started, or setting up the shop fails.
pub async fn run(args: OrdersBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.orders > 0 && args.clients > 0,
        "--orders and --clients must be positive"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let unique = ordo_kernel::new_id().simple().to_string()[20..].to_owned();
    let mut config = super::embedded(dir.path());
    if args.backend == Backend::Postgres {
        config.database_url = Some(Secret::new(args.postgres_url.clone()));
        config.database_schema_prefix = format!("bench_{unique}");
        config.database_max_connections = 16;
        config.bus_url = Some(Secret::new(args.nats_url.clone()));
        config.bus.stream = format!("BENCH_{unique}");
        config.bus.subject_prefix = format!("bench{unique}");
    }
    let running = Platform::start(config)
        .await
        .context("starting the platform")?;
    let base = format!("http://{}/api/v1", running.address);
    let client = reqwest::Client::new();

    let (product, customers) = setup(&client, &base, args.clients, args.orders).await?;
    let latency = Arc::new(std::sync::Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let next = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (token, method) in customers {
        let (client, base, product) = (client.clone(), base.clone(), product.clone());
        let (latency, next, created) = (latency.clone(), next.clone(), created.clone());
        let total = args.orders;
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return anyhow::Ok(());
                }
                let sent = Instant::now();
                let response = client
                    .post(format!("{base}/orders"))
                    .bearer_auth(&token)
                    .header("idempotency-key", format!("bench-{n}"))
                    .json(&json!({"items": [{"product_id": product, "quantity": 1}], "fulfilment": "pickup", "payment_method_id": method}))
                    .send()
                    .await?;
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                if response.status() == reqwest::StatusCode::CREATED {
                    created.fetch_add(1, Ordering::Relaxed);
                }
                latency
                    .lock()
                    .map_err(|_| anyhow::anyhow!("latency histogram poisoned"))?
                    .saturating_record(micros);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    running.stop().await?;
    if args.backend == Backend::Postgres {
        cleanup(&args, &unique).await;
    }
    let created = created.load(Ordering::Relaxed);
    let latency = latency
        .lock()
        .map_err(|_| anyhow::anyhow!("latency histogram poisoned"))?;
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let row = Row {
        backend: args.backend,
        clients: args.clients,
        orders: args.orders,
        created,
        failed: args.orders - created,
        seconds,
        orders_per_sec: created as f64 / seconds,
        latency_p50_ms: ms(0.5),
        latency_p99_ms: ms(0.99),
    };
    let report = Report::new(vec![row]);
    print_table(&report);
    report.write(&args.json)
}

/// Drops the run's schemas and stream: a benchmark leaves nothing behind.
async fn cleanup(args: &OrdersBench, unique: &str) {
    let options = ordo_db::DbOptions {
        data_dir: std::env::temp_dir(),
        url: Some(Secret::new(args.postgres_url.clone())),
        schema_prefix: format!("bench_{unique}"),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(10),
    };
    if let Ok(db) = ordo_db::Db::connect(&options, "cleanup").await
        && let Ok(mut tx) = db.begin().await
    {
        let mut schemas: Vec<&str> = crate::registry::services(&crate::Config::default())
            .iter()
            .map(|s| s.name)
            .collect();
        schemas.push("cleanup");
        for service in schemas {
            let drop = format!("DROP SCHEMA IF EXISTS bench_{unique}_{service} CASCADE");
            let _ = sqlx::query(&drop).execute(&mut *tx).await;
        }
        let _ = tx.commit().await;
    }
    if let Ok(client) = async_nats::connect(args.nats_url.as_str()).await {
        let _ = async_nats::jetstream::new(client)
            .delete_stream(format!("BENCH_{unique}"))
            .await;
    }
}

fn print_table(report: &Report<Row>) {
    println!(
        "checkout benchmark on {} ({} cores)\n",
        report.machine, report.cores
    );
    println!(
        "{:<9} {:>7} {:>7} {:>7} {:>6} {:>10} {:>8} {:>8}",
        "backend", "clients", "orders", "created", "failed", "orders/s", "p50 ms", "p99 ms"
    );
    for row in &report.rows {
        let backend = match row.backend {
            Backend::Embedded => "embedded",
            Backend::Postgres => "postgres",
        };
        println!(
            "{:<9} {:>7} {:>7} {:>7} {:>6} {:>10.0} {:>8.2} {:>8.2}",
            backend,
            row.clients,
            row.orders,
            row.created,
            row.failed,
            row.orders_per_sec,
            row.latency_p50_ms,
            row.latency_p99_ms
        );
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> anyhow::Result<Value> {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
    Ok(body)
}

/// A signed-up, logged-in user's access token.
async fn user(
    client: &reqwest::Client,
    base: &str,
    role: &str,
    n: usize,
) -> anyhow::Result<String> {
    let email = format!("{role}-{n}@bench.ordo.dev");
    let password = "a benchmark password";
    post(
        client,
        &format!("{base}/auth/register"),
        None,
        &json!({"email": email, "password": password, "name": "Bench", "role": role}),
    )
    .await?;
    let login = post(
        client,
        &format!("{base}/auth/login"),
        None,
        &json!({"email": email, "password": password}),
    )
    .await?;
    login["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

/// A merchant with one product and enough stock, and one customer with a card per client.
async fn setup(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    orders: usize,
) -> anyhow::Result<(String, Vec<(String, String)>)> {
    let owner = user(client, base, "merchant", 0).await?;
    let merchant = post(
        client,
        &format!("{base}/merchants"),
        Some(&owner),
        &json!({"name": "Bench Bistro", "kind": "restaurant", "address": "Benchstraße 1", "lat": 52.5, "lon": 13.4}),
    )
    .await?;
    let merchant = merchant["id"].as_str().context("merchant id")?;
    let product = post(
        client,
        &format!("{base}/merchants/{merchant}/products"),
        Some(&owner),
        &json!({"name": "Soup", "category": "Soups", "price": {"amount": 500, "currency": "EUR"}}),
    )
    .await?;
    let product = product["id"].as_str().context("product id")?.to_owned();
    let stock = client
        .put(format!("{base}/products/{product}/stock"))
        .bearer_auth(&owner)
        .json(&json!({"on_hand": orders.min(1_000_000)}))
        .send()
        .await?;
    anyhow::ensure!(
        stock.status().is_success(),
        "setting stock: {}",
        stock.status()
    );
    let mut customers = Vec::with_capacity(clients);
    for n in 0..clients {
        let token = user(client, base, "customer", n).await?;
        let card = post(
            client,
            &format!("{base}/me/payment-methods"),
            Some(&token),
            &json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}),
        )
        .await?;
        let method = card["id"].as_str().context("card id")?.to_owned();
        customers.push((token, method));
    }
    Ok((product, customers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_run() {
        let report = Report::new(vec![Row {
            backend: Backend::Embedded,
            clients: 2,
            orders: 10,
            created: 10,
            failed: 0,
            seconds: 1.0,
            orders_per_sec: 10.0,
            latency_p50_ms: 1.0,
            latency_p99_ms: 2.0,
        }]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["backend"], "embedded");
        assert_eq!(json["rows"][0]["orders_per_sec"], 10.0);
    }
}
