//! `ordo bench checkout`: the checkout under load, beside the machine's HTTP ceiling. Starts
//! the platform in this process (on SQLite with the in-process bus, or on PostgreSQL with
//! NATS), sets up a merchant with stock and one customer with a card per client, then
//! `--clients` clients place orders over HTTP (`POST /orders` with a token and a fresh
//! `Idempotency-Key`) back to back for `--seconds`. Payment, stock commits and notifications
//! follow through the bus meanwhile, as in production; what they have not caught up with at
//! the end is the backlog. The ceiling (`http`) is the same clients posting JSON to a
//! trivial handler served by this binary's HTTP stack, measured in the same run.
//!
//! With `--target` it measures a platform already running elsewhere instead (`--server-pid`
//! then reports the memory and CPU of those processes alone, without the clients': every
//! process of a scale-out platform, summed, gives its CPU time per order).

use super::shop::{Shop, ceiling_server, place, setup};
use super::{Latencies, Report, hammer, open_loop};
use crate::platform::Platform;
use anyhow::Context;
use hdrhistogram::Histogram;
use ordo_kernel::Secret;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// SQLite and the in-process bus.
    Embedded,
    /// PostgreSQL and NATS JetStream.
    Postgres,
}

#[derive(Debug, clap::Args)]
pub struct CheckoutBench {
    /// Concurrent clients, each a customer of its own.
    #[arg(long, visible_alias = "concurrency", default_value_t = 64)]
    clients: usize,
    /// How long each measurement runs, in seconds.
    #[arg(long, visible_alias = "duration", default_value_t = 20)]
    seconds: u64,
    /// Open loop: orders sent at this rate a second, whatever the answers (latency counted
    /// from each one's intended time), shared out among the clients' customers, who follow
    /// their notification streams. Without it: closed loop, each client sending its next
    /// order when the last is answered.
    #[arg(long, conflicts_with = "sweep")]
    rate: Option<f64>,
    /// Open loop at each of these rates in turn (`100,200,400`), `--seconds` each, drawing
    /// latency against throughput to `--chart`: where the knee of the curve is.
    #[arg(long, value_delimiter = ',')]
    sweep: Vec<f64>,
    #[arg(long, default_value = "target/bench/checkout-latency.svg")]
    chart: PathBuf,
    /// Orders spread over this many products of the merchant, each order's drawn at random:
    /// 1 is one hot product, whose stock every order takes from.
    #[arg(long, default_value_t = 1)]
    products: usize,
    /// Each product's stock kept in this many rows (1 to 64), so that concurrent orders of
    /// one product hold from different rows.
    #[arg(long, default_value_t = 1)]
    slots: u64,
    #[arg(long, value_enum, default_value_t = Backend::Embedded)]
    backend: Backend,
    /// Measure the platform already serving at this address (`http://127.0.0.1:8080`)
    /// instead of starting one; it must have rate limits off
    /// (`ORDO_RATE_LIMIT__ENABLED=false`). The pipeline's backlog and the writers are then
    /// not reported.
    #[arg(long, conflicts_with = "backend")]
    target: Option<String>,
    /// With `--target`, the server's process ids (`--server-pid 41,42,43`, every process of
    /// a scale-out platform): their peak RSS and CPU time, summed, are reported instead of
    /// this process's.
    #[arg(long, requires = "target", value_delimiter = ',')]
    server_pid: Vec<u32>,
    #[arg(
        long,
        env = "ORDO_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    #[arg(long, env = "ORDO_BUS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    #[arg(long, default_value = "target/bench/checkout.json")]
    json: PathBuf,
}

#[derive(Debug, Serialize)]
struct Row {
    scenario: &'static str,
    /// None for a `--target`'s platform, whatever it runs on.
    backend: Option<Backend>,
    clients: usize,
    /// How many products the orders were spread over.
    products: usize,
    /// How many rows each product's stock was kept in.
    slots: u64,
    /// The open-loop rate asked for; none for a closed loop.
    rate: Option<f64>,
    seconds: f64,
    ok: u64,
    per_sec: f64,
    #[serde(flatten)]
    latency: Latencies,
    /// Open loop: from an order's `201` to its `order_placed` on the customer's stream.
    notified: Option<Notified>,
}

/// The run: its rows, the checkout's ratio to the ceiling and what the platform did.
#[derive(Debug, Serialize)]
struct Run {
    rows: Vec<Row>,
    /// The (last) checkout's throughput over the ceiling's.
    ratio_to_http: f64,
    /// On PostgreSQL: pgbench running the same writes as one transaction
    /// (`bench/pgbench/checkout.sql`, 8 clients), in the same run.
    pgbench_tps: Option<f64>,
    ratio_to_pgbench: Option<f64>,
    /// Events not yet relayed from the outboxes when the clients stopped, and a second later
    /// (none with `--target`).
    backlog_at_end: Option<i64>,
    backlog_after_1s: Option<i64>,
    /// How far payment, behind the checkout, had come (none with `--target`).
    paid: Option<Paid>,
    /// Peak resident memory and CPU time of the process measured (none with `--target`
    /// and no `--server-pid`).
    usage: Option<Usage>,
    /// How busy each SQLite writer was during the checkout (none on PostgreSQL).
    writers: Vec<WriterRow>,
}

/// The orders' way from placed to paid (payment authorised, stock committed): on a broker,
/// events wait in its streams rather than in the outboxes, so the backlog does not show
/// a pipeline that falls behind; this does.
#[derive(Debug, Serialize)]
struct Paid {
    /// Orders of the run not yet paid when the clients stopped.
    unpaid_at_end: i64,
    /// Seconds from the clients' stop until every order was paid; none when some were not
    /// within `CATCH_UP`.
    caught_up_after_s: Option<f64>,
    /// Orders paid by then.
    count: u64,
    /// From each order's first history entry (placed) to its move to paid.
    #[serde(flatten)]
    placed_to_paid: Latencies,
}

/// How long the bench waits for payment to catch up once the clients stop.
const CATCH_UP: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize)]
struct Notified {
    count: u64,
    #[serde(flatten)]
    latency: Latencies,
}

/// Orders answered and notifications received, matched by order id, whichever comes first.
#[derive(Default)]
struct Told {
    first: Mutex<HashMap<Uuid, Sighting>>,
    latency: Mutex<Option<Histogram<u64>>>,
}

/// How an order was first seen.
enum Sighting {
    Answered(Instant),
    Notified,
}

impl Told {
    fn answered(&self, order: Uuid) {
        self.seen(order, Sighting::Answered(Instant::now()));
    }

    fn notified(&self, order: Uuid) {
        self.seen(order, Sighting::Notified);
    }

    /// The second sighting of an order records the time from its answer to its
    /// notification (none when the notification came first).
    fn seen(&self, order: Uuid, now: Sighting) {
        let Ok(mut first) = self.first.lock() else {
            return;
        };
        let Some(before) = first.remove(&order) else {
            first.insert(order, now);
            return;
        };
        let took = match before {
            Sighting::Answered(at) => at.elapsed(),
            Sighting::Notified => Duration::ZERO,
        };
        if let Ok(mut latency) = self.latency.lock() {
            latency
                .get_or_insert_with(super::histogram)
                .saturating_record(super::micros(took).max(1));
        }
    }

    /// What was matched since the last call.
    fn take(&self) -> Option<Notified> {
        let latency = self.latency.lock().ok()?.take()?;
        Some(Notified {
            count: latency.len(),
            latency: Latencies::from(&latency),
        })
    }
}

/// Follows a customer's notification stream, telling `told` of each `order_placed`.
async fn watch(response: reqwest::Response, told: Arc<Told>) {
    let mut response = response;
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for data in event.lines().filter_map(|l| l.strip_prefix("data:")) {
                let Ok(notification) = serde_json::from_str::<Value>(data.trim()) else {
                    continue;
                };
                if notification["kind"] == "order_placed"
                    && let Some(order) = notification["order_id"]
                        .as_str()
                        .and_then(|id| id.parse().ok())
                {
                    told.notified(order);
                }
            }
        }
    }
}

/// One database's writer during the run: what bounds the write path.
#[derive(Debug, Serialize)]
struct WriterRow {
    service: String,
    transactions: u64,
    per_group: f64,
    /// Shares of the run's wall time the connection was held by transactions, and by the
    /// group commits (their fsync).
    held: f64,
    committing: f64,
}

fn writer_rows(
    before: &[(String, ordo_db::CommitGroups)],
    after: &[(String, ordo_db::CommitGroups)],
    seconds: f64,
) -> Vec<WriterRow> {
    after
        .iter()
        .zip(before)
        .filter(|((_, after), (_, before))| after.transactions > before.transactions)
        .map(|((service, after), (_, before))| {
            let transactions = after.transactions - before.transactions;
            let groups = (after.groups - before.groups).max(1);
            WriterRow {
                service: service.clone(),
                transactions,
                per_group: transactions as f64 / groups as f64,
                held: (after.held - before.held).as_secs_f64() / seconds,
                committing: (after.committing - before.committing).as_secs_f64() / seconds,
            }
        })
        .collect()
}

fn commit_groups(databases: &crate::registry::Databases) -> Vec<(String, ordo_db::CommitGroups)> {
    databases
        .iter()
        .filter_map(|(service, db)| Some(((*service).to_owned(), db.commit_groups()?)))
        .collect()
}

/// Orders placed and not yet paid (nor ended otherwise).
async fn unpaid(orders: &ordo_db::Db) -> anyhow::Result<i64> {
    let (n,): (i64,) = orders
        .fetch_one(
            "SELECT COUNT(*) FROM orders WHERE status = 'pending_payment'",
            ordo_db::params![],
        )
        .await?;
    Ok(n)
}

/// Waits until `CATCH_UP` after the clients `stopped` for every order to be paid, then reads
/// placed -> paid from the orders' histories: every order of the run (all the steps of a
/// sweep together).
async fn paid(orders: &ordo_db::Db, stopped: Instant, unpaid_at_end: i64) -> anyhow::Result<Paid> {
    let mut caught_up_after_s = (unpaid_at_end == 0).then_some(0.0);
    while caught_up_after_s.is_none() && stopped.elapsed() < CATCH_UP {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if unpaid(orders).await? == 0 {
            caught_up_after_s = Some(stopped.elapsed().as_secs_f64());
        }
    }
    let moves: Vec<(time::OffsetDateTime, time::OffsetDateTime)> = orders
        .fetch_all(
            "SELECT placed.at, paid.at FROM order_history placed
             JOIN order_history paid ON paid.order_id = placed.order_id AND paid.to_status = 'paid'
             WHERE placed.from_status IS NULL",
            ordo_db::params![],
        )
        .await?;
    // Up to an hour: a pipeline far behind is what this is for, past the usual minute.
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    for (placed, paid) in &moves {
        let took = Duration::try_from(*paid - *placed).unwrap_or_default();
        histogram.saturating_record(super::micros(took).max(1));
    }
    Ok(Paid {
        unpaid_at_end,
        caught_up_after_s,
        count: histogram.len(),
        placed_to_paid: Latencies::from(&histogram),
    })
}

/// Events in every service's outbox not yet relayed to their consumers (on a broker, those
/// relayed may still wait in its streams: see `Paid`).
async fn backlog(databases: &crate::registry::Databases) -> i64 {
    let mut waiting = 0;
    for db in databases.values() {
        waiting += ordo_bus::unpublished(db).await.unwrap_or(0);
    }
    waiting
}

#[derive(Debug, Serialize)]
struct Usage {
    /// Which processes: this one (platform and clients together) or the server's.
    of: String,
    /// Summed over the processes.
    peak_rss_mb: f64,
    cpu_seconds: f64,
    /// CPU time of the processes while the (last) checkout ran, per order it placed.
    cpu_ms_per_order: f64,
}

/// The processes measured: `/proc/self`, or the server's.
fn procs(pids: &[u32]) -> Vec<String> {
    if pids.is_empty() {
        vec!["self".to_owned()]
    } else {
        pids.iter().map(u32::to_string).collect()
    }
}

/// CPU time (s) so far of `procs`, summed.
fn cpu_of(procs: &[String]) -> f64 {
    procs.iter().map(|p| process_usage(p).1).sum()
}

impl Usage {
    /// This process's, or those of `pids` summed, from `/proc`; `cpu_before` the CPU time
    /// they had when the checkout began, `placed` the orders it placed.
    fn of(pids: &[u32], cpu_before: f64, placed: u64) -> Usage {
        let procs = procs(pids);
        let of = match pids {
            [] => "this process, platform and clients".to_owned(),
            [pid] => format!("the server (pid {pid})"),
            many => format!("the server's {} processes", many.len()),
        };
        let (peak_rss_mb, cpu_seconds) = procs
            .iter()
            .map(|p| process_usage(p))
            .fold((0.0, 0.0), |(rss, cpu), (r, c)| (rss + r, cpu + c));
        Usage {
            of,
            peak_rss_mb,
            cpu_seconds,
            cpu_ms_per_order: (cpu_seconds - cpu_before) * 1000.0 / placed.max(1) as f64,
        }
    }
}

/// Peak resident set (MiB) and CPU time (s) so far of the process `/proc/{proc}` shows.
fn process_usage(proc: &str) -> (f64, f64) {
    let peak_kb = std::fs::read_to_string(format!("/proc/{proc}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    // utime and stime, fields 14 and 15, in clock ticks (100 a second on Linux).
    let ticks = std::fs::read_to_string(format!("/proc/{proc}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = stat.rsplit_once(')')?.1.to_owned();
            let fields: Vec<&str> = after_name.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0.0);
    (peak_kb / 1024.0, ticks / 100.0)
}

/// A row for `ok` answers over `seconds`, from the first request to the last answer (an
/// open loop past its knee answers long after its last send).
fn row(
    scenario: &'static str,
    args: &CheckoutBench,
    rate: Option<f64>,
    (ok, latency, seconds): (u64, &Histogram<u64>, f64),
    notified: Option<Notified>,
) -> Row {
    Row {
        scenario,
        backend: args.target.is_none().then_some(args.backend),
        clients: args.clients,
        products: args.products,
        slots: args.slots,
        rate,
        notified,
        seconds,
        ok,
        per_sec: ok as f64 / seconds,
        latency: Latencies::from(latency),
    }
}

/// Runs the benchmark.
///
/// # Errors
/// The platform or a backend cannot be started, or setting up the shop fails.
pub async fn run(args: CheckoutBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0 && args.seconds > 0 && args.products > 0,
        "--clients, --seconds and --products must be positive"
    );
    anyhow::ensure!(
        (1..=64).contains(&args.slots),
        "--slots must be between 1 and 64"
    );
    anyhow::ensure!(
        args.rate.is_none_or(|r| r > 0.0 && r.is_finite()),
        "--rate must be a positive number of orders a second"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let unique = ordo_kernel::new_id().simple().to_string()[20..].to_owned();
    let running = match &args.target {
        Some(_) => None,
        None => Some(start(&args, dir.path(), &unique).await?),
    };
    let base = match (&args.target, &running) {
        (Some(target), _) => format!("{}/api/v1", target.trim_end_matches('/')),
        (None, Some(running)) => format!("http://{}/api/v1", running.address),
        (None, None) => unreachable!("a platform is started without a target"),
    };
    let client = reqwest::Client::new();
    // The most stock a product may have: more than any run here can sell.
    let Shop {
        products,
        customers,
        ..
    } = setup(
        &client,
        &base,
        args.clients,
        (1_000_000, args.slots),
        args.products,
    )
    .await?;
    let products = Arc::new(products);

    println!("http ceiling: {} clients, {} s", args.clients, args.seconds);
    let (ceiling, ceiling_task) = ceiling_server().await?;
    let echo_url = format!("http://{ceiling}/echo");
    let echo = client.clone();
    let echo_started = Instant::now();
    let (echoed, echo_latency) = hammer("http", args.clients, args.seconds, move |c, n| {
        let (echo, url) = (echo.clone(), echo_url.clone());
        async move {
            let body = json!({"client": c, "n": n, "items": [{"product_id": "p", "quantity": 1}]});
            echo.post(&url)
                .json(&body)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await?;
    let echo_seconds = echo_started.elapsed().as_secs_f64();
    ceiling_task.abort();

    let customers = Arc::new(customers);
    let told = Arc::new(Told::default());
    let steps: Vec<Option<f64>> = if args.sweep.is_empty() {
        vec![args.rate]
    } else {
        args.sweep.iter().copied().map(Some).collect()
    };
    let mut watchers = tokio::task::JoinSet::new();
    if steps.iter().any(Option::is_some) {
        for (token, _) in customers.iter() {
            let stream = client
                .get(format!("{base}/notifications/stream"))
                .bearer_auth(token)
                .send()
                .await?;
            anyhow::ensure!(
                stream.status().is_success(),
                "the notification stream was refused"
            );
            watchers.spawn(watch(stream, told.clone()));
        }
    }
    let writers_before = running
        .as_ref()
        .map(|r| commit_groups(&r.databases))
        .unwrap_or_default();
    let started = Instant::now();
    let mut cpu_before = cpu_of(&procs(&args.server_pid));
    let mut checkouts = Vec::with_capacity(steps.len());
    for step in steps {
        cpu_before = cpu_of(&procs(&args.server_pid));
        let step_started = Instant::now();
        let (placed, latency) = match step {
            None => {
                hammer("checkout", args.clients, args.seconds, {
                    let (client, base, customers) =
                        (client.clone(), base.clone(), customers.clone());
                    let products = products.clone();
                    move |c, n| {
                        let (client, base, products, customers) = (
                            client.clone(),
                            base.clone(),
                            products.clone(),
                            customers.clone(),
                        );
                        async move {
                            let key = format!("bench-{c}-{n}");
                            let product = &products[fastrand::usize(..products.len())];
                            place(&client, &base, product, &customers[c], key)
                                .await
                                .is_some()
                        }
                    }
                })
                .await?
            }
            Some(rate) => {
                let label = format!("checkout at {rate}/s");
                open_loop(&label, rate, args.seconds, {
                    let (client, base, customers, told) = (
                        client.clone(),
                        base.clone(),
                        customers.clone(),
                        told.clone(),
                    );
                    let products = products.clone();
                    move |n| {
                        let (client, base, products, customers, told) = (
                            client.clone(),
                            base.clone(),
                            products.clone(),
                            customers.clone(),
                            told.clone(),
                        );
                        async move {
                            let who = usize::try_from(n).unwrap_or(0) % customers.len();
                            let key = format!("bench-{rate}-{n}");
                            let product = &products[fastrand::usize(..products.len())];
                            let placed = place(&client, &base, product, &customers[who], key);
                            placed
                                .await
                                .inspect(|order| told.answered(*order))
                                .is_some()
                        }
                    }
                })
                .await?
            }
        };
        let took = step_started.elapsed().as_secs_f64();
        checkouts.push(row(
            "checkout",
            &args,
            step,
            (placed, &latency, took),
            told.take(),
        ));
    }
    let seconds = started.elapsed().as_secs_f64();
    // Read before anything else waits: the orders unpaid as the clients stop.
    let orders = running.as_ref().and_then(|r| r.databases.get("orders"));
    let stopped = Instant::now();
    let unpaid_at_stop = match orders {
        Some(orders) => Some(unpaid(orders).await?),
        None => None,
    };
    let (writers, backlog_at_end, backlog_after_1s) = match &running {
        Some(running) => {
            let after = commit_groups(&running.databases);
            let at_end = backlog(&running.databases).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after_1s = backlog(&running.databases).await;
            (
                writer_rows(&writers_before, &after, seconds),
                Some(at_end),
                Some(after_1s),
            )
        }
        None => (Vec::new(), None, None),
    };
    let placed = checkouts.last().map_or(0, |last| last.ok);
    let usage = (args.target.is_none() || !args.server_pid.is_empty())
        .then(|| Usage::of(&args.server_pid, cpu_before, placed));
    let paid = match (orders, unpaid_at_stop) {
        (Some(orders), Some(unpaid_at_end)) => Some(paid(orders, stopped, unpaid_at_end).await?),
        _ => None,
    };
    watchers.abort_all();
    if let Some(running) = running {
        running.stop().await?;
    }
    let pgbench = if args.backend == Backend::Postgres {
        let measured = pgbench(&args, &unique).await;
        cleanup(&args, &unique).await;
        match measured {
            Ok(tps) => Some(tps),
            Err(error) => {
                println!("pgbench not measured: {error:#}");
                None
            }
        }
    } else {
        None
    };
    let ceiling = row(
        "http",
        &args,
        None,
        (echoed, &echo_latency, echo_seconds),
        None,
    );
    let ratio_to_http = checkouts.last().map_or(0.0, |last| {
        last.per_sec / ceiling.per_sec.max(f64::MIN_POSITIVE)
    });
    if !args.sweep.is_empty() {
        let points: Vec<super::chart::Point> = checkouts
            .iter()
            .map(|r| super::chart::Point {
                throughput: r.per_sec,
                p50_ms: r.latency.p50_ms,
                p99_ms: r.latency.p99_ms,
            })
            .collect();
        let title = format!(
            "POST /orders on {}, open loop, {} cores",
            match args.backend {
                Backend::Embedded => "SQLite and the in-process bus",
                Backend::Postgres => "PostgreSQL and NATS",
            },
            std::thread::available_parallelism().map_or(1, usize::from)
        );
        super::chart::latency(&args.chart, &title, &points)?;
        println!("chart written to {}", args.chart.display());
    }
    let mut rows = checkouts;
    rows.push(ceiling);
    let run = Run {
        ratio_to_http,
        pgbench_tps: pgbench,
        ratio_to_pgbench: pgbench.map(|tps| rows[0].per_sec / tps.max(f64::MIN_POSITIVE)),
        rows,
        backlog_at_end,
        backlog_after_1s,
        paid,
        usage,
        writers,
    };
    let report = Report::new(vec![run]);
    print_table(&report);
    report.write(&args.json)
}

/// Starts the platform in this process on the backend asked for.
async fn start(
    args: &CheckoutBench,
    dir: &std::path::Path,
    unique: &str,
) -> anyhow::Result<crate::server::Running> {
    let mut config = super::embedded(dir);
    if args.backend == Backend::Postgres {
        config.database_url = Some(Secret::new(args.postgres_url.clone()));
        config.database_schema_prefix = format!("bench_{unique}");
        config.database_max_connections = connections_per_service(args, unique).await?;
        config.bus_url = Some(Secret::new(args.nats_url.clone()));
        config.bus.stream = format!("BENCH_{unique}");
        config.bus.subject_prefix = format!("bench{unique}");
    }
    Platform::start(config)
        .await
        .context("starting the platform")
}

/// Each service's pool, so that all of them together stay within the server's
/// `max_connections` (less a few for pgbench and the run's own): a pool that cannot open
/// its connections would make its service wait, and the run measure the wait.
async fn connections_per_service(args: &CheckoutBench, unique: &str) -> anyhow::Result<u32> {
    // The platform's services, each with its own pool (app/src/registry.rs).
    const SERVICES: u32 = 11;
    const SPARE: u32 = 12;
    let probe = ordo_db::Db::connect(&run_schemas(args, unique), "probe").await?;
    let (max,): (String,) = probe
        .fetch_one("SHOW max_connections", ordo_db::params![])
        .await?;
    probe.close().await;
    let max: u32 = max.parse().context("the server's max_connections")?;
    Ok((max.saturating_sub(SPARE) / SERVICES).clamp(2, 16))
}

/// Where the run's services keep their tables on PostgreSQL (`bench_{unique}_{service}`).
fn run_schemas(args: &CheckoutBench, unique: &str) -> ordo_db::DbOptions {
    ordo_db::DbOptions {
        data_dir: std::env::temp_dir(),
        url: Some(Secret::new(args.postgres_url.clone())),
        schema_prefix: format!("bench_{unique}"),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
    }
}

/// One checkout's writes on the request path as one pgbench transaction.
const PGBENCH_SCRIPT: &str = include_str!("../../../bench/pgbench/checkout.sql");
/// The script's product ids are this with the product's number (1 … N) in the last 48 bits;
/// its merchant is this one.
const PGBENCH_PRODUCTS: u128 = 0x0000_0000_0000_4000_8000_0000_0000_0000;
const PGBENCH_MERCHANT: u128 = 0x0000_0000_0000_4000_a000_0000_0000_0001;

/// Runs `pgbench` (8 clients, prepared statements, `--seconds`) with the checkout's writes on
/// the tables the run's orders and inventory services made, once the platform has stopped;
/// its transactions per second.
async fn pgbench(args: &CheckoutBench, unique: &str) -> anyhow::Result<f64> {
    let options = run_schemas(args, unique);
    // The script's products, each with more stock than any run sells.
    let inventory = ordo_db::Db::connect(&options, "inventory").await?;
    let (merchant, now) = (
        uuid::Uuid::from_u128(PGBENCH_MERCHANT),
        ordo_kernel::time::now(),
    );
    for n in 1..=args.products {
        let product = uuid::Uuid::from_u128(PGBENCH_PRODUCTS | u128::from(u64::try_from(n)?));
        for slot in 0..args.slots {
            inventory
                .execute(
                    "INSERT INTO stock (product_id, location, slot, merchant_id, on_hand, reserved, updated_at)
                     VALUES ($1, 'default', $2, $3, 1000000000, 0, $4)",
                    ordo_db::params![product, i64::try_from(slot)?, merchant, now],
                )
                .await?;
        }
    }
    inventory.close().await;
    let script = tempfile::NamedTempFile::new()?;
    std::fs::write(script.path(), PGBENCH_SCRIPT)?;
    println!("pgbench: 8 clients, {} s", args.seconds);
    let (url, seconds, path, products, slots) = (
        args.postgres_url.clone(),
        args.seconds.to_string(),
        script.path().to_owned(),
        format!("products={}", args.products),
        format!("slots={}", args.slots),
    );
    // Orders first: its outbox is the one an order's event goes to.
    let search_path = format!("-c search_path=bench_{unique}_orders,bench_{unique}_inventory");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pgbench")
            .args([
                "-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", &seconds, "-D",
            ])
            .arg(products)
            .arg("-D")
            .arg(slots)
            .arg("-f")
            .arg(path)
            .arg(url)
            .env("PGOPTIONS", search_path)
            .output()
    })
    .await?
    .context("running pgbench (Debian: postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    tps(&stdout).context("no `tps = ` in pgbench's output")
}

/// The transactions per second pgbench reports.
fn tps(output: &str) -> Option<f64> {
    output
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Drops the run's schemas and stream: a benchmark leaves nothing behind.
async fn cleanup(args: &CheckoutBench, unique: &str) {
    let options = run_schemas(args, unique);
    if let Ok(db) = ordo_db::Db::connect(&options, "cleanup").await
        && let Ok(mut tx) = db.begin().await
    {
        // Every service's schema, and this connection's own, share the run's prefix.
        let run = format!("bench_{unique}_");
        let schemas: Vec<(String,)> = tx
            .fetch_all("SELECT nspname FROM pg_namespace", ordo_db::params![])
            .await
            .unwrap_or_default();
        for (schema,) in schemas.into_iter().filter(|(name,)| name.starts_with(&run)) {
            let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            let _ = tx.execute(&drop, ordo_db::params![]).await;
        }
        let _ = tx.commit().await;
    }
    if let Ok(client) = async_nats::connect(args.nats_url.as_str()).await {
        let _ = async_nats::jetstream::new(client)
            .delete_stream(format!("BENCH_{unique}"))
            .await;
    }
}

fn print_table(report: &Report<Run>) {
    println!(
        "\ncheckout benchmark on {} ({} cores; clients on the same machine)\n",
        report.machine, report.cores
    );
    println!(
        "{:<9} {:<9} {:>18} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "scenario", "backend", "load", "ok", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for run in &report.rows {
        for row in &run.rows {
            let backend = match row.backend {
                Some(Backend::Embedded) => "embedded",
                Some(Backend::Postgres) => "postgres",
                None => "target",
            };
            let load = row.rate.map_or_else(
                || format!("{} clients", row.clients),
                |r| format!("{r}/s open"),
            );
            let load = match row.scenario {
                "checkout" if row.slots > 1 => {
                    format!("{load}, {}p×{}s", row.products, row.slots)
                }
                "checkout" => format!("{load}, {}p", row.products),
                _ => load,
            };
            println!(
                "{:<9} {:<9} {:>18} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                row.scenario,
                backend,
                load,
                row.ok,
                row.per_sec,
                row.latency.p50_ms,
                row.latency.p90_ms,
                row.latency.p99_ms,
                row.latency.max_ms
            );
        }
        println!("\nratio to http: {:.3}", run.ratio_to_http);
        for (row, n) in run
            .rows
            .iter()
            .filter_map(|row| Some((row, row.notified.as_ref()?)))
        {
            println!(
                "at {}/s, order answered -> order_placed on the customer's stream: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} orders)",
                row.rate.unwrap_or_default(),
                n.latency.p50_ms,
                n.latency.p90_ms,
                n.latency.p99_ms,
                n.latency.max_ms,
                n.count
            );
        }
        if let (Some(tps), Some(ratio)) = (run.pgbench_tps, run.ratio_to_pgbench) {
            println!("pgbench, the same writes as one transaction: {tps:.0} tps");
            println!("ratio to pgbench: {ratio:.3}");
        }
        if let (Some(at_end), Some(after_1s)) = (run.backlog_at_end, run.backlog_after_1s) {
            println!("backlog at the end: {at_end} events, a second later: {after_1s}");
        }
        if let Some(paid) = &run.paid {
            let caught_up = paid.caught_up_after_s.map_or_else(
                || format!("not all within {} s", CATCH_UP.as_secs()),
                |s| format!("all paid {s:.1} s later"),
            );
            println!(
                "placed -> paid over {} orders: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {} unpaid when the clients stopped, {caught_up}",
                paid.count,
                paid.placed_to_paid.p50_ms,
                paid.placed_to_paid.p99_ms,
                paid.placed_to_paid.max_ms,
                paid.unpaid_at_end,
            );
        }
        if let Some(usage) = &run.usage {
            println!(
                "{}: peak RSS {:.0} MiB, CPU {:.1} s, {:.2} CPU-ms per order",
                usage.of, usage.peak_rss_mb, usage.cpu_seconds, usage.cpu_ms_per_order
            );
        }
        if !run.writers.is_empty() {
            println!(
                "\n{:<15} {:>12} {:>9} {:>7} {:>11}",
                "writer", "transactions", "per group", "held", "committing"
            );
        }
        for w in &run.writers {
            println!(
                "{:<15} {:>12} {:>9.1} {:>6.0}% {:>10.0}%",
                w.service,
                w.transactions,
                w.per_group,
                w.held * 100.0,
                w.committing * 100.0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(transactions: u64, groups: u64, held_ms: u64) -> ordo_db::CommitGroups {
        ordo_db::CommitGroups {
            groups,
            transactions,
            held: Duration::from_millis(held_ms),
            committing: Duration::from_millis(held_ms / 2),
        }
    }

    #[test]
    fn writers_are_measured_over_the_run_only() {
        let before = vec![
            ("orders".to_owned(), counts(10, 5, 1_000)),
            ("catalog".to_owned(), counts(3, 3, 10)),
        ];
        let after = vec![
            ("orders".to_owned(), counts(110, 15, 2_000)),
            ("catalog".to_owned(), counts(3, 3, 10)),
        ];
        let rows = writer_rows(&before, &after, 2.0);
        assert_eq!(rows.len(), 1, "an idle writer is left out");
        assert_eq!(rows[0].transactions, 100);
        assert!((rows[0].per_group - 10.0).abs() < 1e-9);
        assert!((rows[0].held - 0.5).abs() < 1e-9);
        assert!((rows[0].committing - 0.25).abs() < 1e-9);
    }

    #[test]
    fn an_answer_and_its_notification_are_matched_either_way_round() {
        let told = Told::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        told.answered(a);
        told.notified(b);
        assert!(told.take().is_none(), "nothing matched yet");
        told.notified(a);
        told.answered(b);
        let summary = told.take().unwrap();
        assert_eq!(summary.count, 2);
        assert!(told.take().is_none(), "taken");
        assert!(told.first.lock().unwrap().is_empty());
    }

    #[test]
    fn pgbench_s_rate_is_read() {
        let output =
            "latency average = 12.878 ms\ntps = 621.233938 (without initial connection time)\n";
        assert_eq!(tps(output), Some(621.233938));
        assert_eq!(tps("pgbench: error"), None);
    }

    #[test]
    fn a_process_is_measured() {
        let own = Usage::of(&[], 0.0, 1);
        assert!(own.peak_rss_mb > 0.0);
        assert!(own.cpu_seconds >= 0.0);
        let me = std::process::id();
        let by_pid = Usage::of(&[me], cpu_of(&procs(&[me])), 10);
        assert!(by_pid.peak_rss_mb >= own.peak_rss_mb);
        assert!(by_pid.of.contains(&me.to_string()));
        assert!(by_pid.cpu_ms_per_order >= 0.0);
        let twice = Usage::of(&[me, me], 0.0, 1);
        assert!(twice.of.contains("2 processes"));
        assert!(twice.peak_rss_mb >= 2.0 * by_pid.peak_rss_mb, "summed");
    }
}
