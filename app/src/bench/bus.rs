//! `ordo bench bus`: publish N events through the outbox and handle them in a trivial
//! consumer, on the in-process bus (SQLite), on NATS JetStream and on Kafka (PostgreSQL);
//! beside each, the raw ceiling measured in the same run — a bare SQLite/PostgreSQL commit
//! loop with the same batching, plain JetStream publish-with-ack, and plain Kafka produce
//! with the relay's producer settings. `--rate` paces the producers, for latency below the
//! maximum rate. Prints a table and writes JSON. A benchmark, not a test: figures vary with
//! the machine and its load.

use super::Report;

use anyhow::Context;
use hdrhistogram::Histogram;
use ordo_bus::{Bus, BusOptions, Envelope, EventMeta, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_db::{Db, DbOptions, Encode as _};
use ordo_kernel::Secret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Embedded,
    Nats,
    Kafka,
    /// Embedded and NATS; Kafka when asked for by name.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Append {
    Batch,
    Each,
}

#[derive(Debug, clap::Args)]
pub struct BusBench {
    /// Events to publish and handle per backend.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    #[arg(long, value_enum, default_value_t = Backend::All)]
    backend: Backend,
    /// Concurrent producers.
    #[arg(long, default_value_t = 4)]
    producers: usize,
    /// Events per producer transaction.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// How producers append: `batch` writes a transaction's events in one statement
    /// (`Outbox::append_all`), `each` one statement per event (`Outbox::append`).
    #[arg(long, value_enum, default_value_t = Append::Batch)]
    append: Append,
    /// Distinct subjects (ordering keys) the events spread over.
    #[arg(long, default_value_t = 1000)]
    subjects: usize,
    /// Events per second the producers write together, at most; unset: as fast as they can.
    #[arg(long)]
    rate: Option<u32>,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    #[arg(long, default_value = "kafka://127.0.0.1:9092")]
    kafka_url: String,
    /// The NATS and Kafka runs keep their outboxes and inboxes here (in throw-away schemas).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "target/bench/bus.json")]
    json: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Tick {
    n: usize,
}

impl Event for Tick {
    const TYPE: &'static str = "bench.ticked";
    const VERSION: u32 = 1;
    const SOURCE: &'static str = "bench_producer";
}

/// Records publish-to-handle latency; does nothing else, so the bus is what is measured.
struct Sink {
    latency: Mutex<Histogram<u64>>,
}

impl Sink {
    fn record(&self, event: &Envelope) -> Result<(), HandlerError> {
        let micros = (ordo_kernel::time::now() - event.time).whole_microseconds();
        let micros = u64::try_from(micros.max(1)).unwrap_or(u64::MAX);
        self.latency
            .lock()
            .map_err(|_| HandlerError::retry("latency histogram poisoned"))?
            .saturating_record(micros);
        Ok(())
    }
}

#[derive(Debug, Serialize)]
struct Row {
    backend: &'static str,
    storage: &'static str,
    events: usize,
    producers: usize,
    batch: usize,
    append: Append,
    /// The producers' pace, when it was set.
    rate: Option<u32>,
    seconds: f64,
    events_per_sec: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    raw_ceiling: &'static str,
    raw_per_sec: f64,
    ratio: f64,
    /// JetStream only: the ceiling with `producers` publishers at once, unordered.
    raw_parallel_per_sec: Option<f64>,
}

/// Runs the benchmark.
///
/// # Errors
/// A backend that cannot be reached, or a run that fails.
pub async fn run(args: BusBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.events > 0 && args.producers > 0 && args.batch > 0 && args.subjects > 0,
        "--events, --producers, --batch and --subjects must be positive"
    );
    let mut rows = Vec::new();
    if matches!(args.backend, Backend::Embedded | Backend::All) {
        rows.push(embedded(&args).await.context("the embedded run")?);
    }
    if matches!(args.backend, Backend::Nats | Backend::All) {
        rows.push(nats(&args).await.context("the NATS run")?);
    }
    if args.backend == Backend::Kafka {
        rows.push(kafka(&args).await.context("the Kafka run")?);
    }
    let report = Report::new(rows);
    print_table(&report);
    report.write(&args.json)
}

fn print_table(report: &Report<Row>) {
    println!(
        "bus benchmark on {} ({} cores)\n",
        report.machine, report.cores
    );
    println!(
        "{:<9} {:<9} {:>8} {:>6} {:>6} {:>10} {:>8} {:>8}  {:<22} {:>10} {:>6}",
        "backend",
        "storage",
        "events",
        "batch",
        "append",
        "events/s",
        "p50 ms",
        "p99 ms",
        "raw ceiling",
        "raw/s",
        "ratio"
    );
    for row in &report.rows {
        let append = match row.append {
            Append::Batch => "batch",
            Append::Each => "each",
        };
        println!(
            "{:<9} {:<9} {:>8} {:>6} {:>6} {:>10.0} {:>8.2} {:>8.2}  {:<22} {:>10.0} {:>6.2}",
            row.backend,
            row.storage,
            row.events,
            row.batch,
            append,
            row.events_per_sec,
            row.latency_p50_ms,
            row.latency_p99_ms,
            row.raw_ceiling,
            row.raw_per_sec,
            row.ratio
        );
    }
    for row in &report.rows {
        if let Some(parallel) = row.raw_parallel_per_sec {
            println!(
                "\n{}: raw ceiling from one ordered publisher, as the relay is; {} unordered publishers reach {:.0}/s (ratio {:.2})",
                row.backend,
                row.producers,
                parallel,
                row.events_per_sec / parallel
            );
        }
    }
}

fn options(url: Option<String>, unique: &str) -> BusOptions {
    BusOptions {
        url,
        stream: format!("BENCH_{unique}"),
        subject_prefix: format!("bench{unique}"),
        poll_interval: Duration::from_millis(100),
        ..BusOptions::default()
    }
}

async fn open(options: &DbOptions, service: &str) -> anyhow::Result<Db> {
    let db = Db::connect(options, service).await?;
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await?;
    Ok(db)
}

async fn embedded(args: &BusBench) -> anyhow::Result<Row> {
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let db_options = db_options(dir.path(), None, String::new());
    let (seconds, p50, p99) = measure_bus(args, &db_options, options(None, &unique())).await?;
    let raw = commit_loop(args, &db_options).await?;
    Ok(row(
        args,
        "embedded",
        "sqlite",
        seconds,
        p50,
        p99,
        "sqlite commit loop",
        raw,
    ))
}

/// One run through the broker at `url`, the outboxes in throw-away PostgreSQL schemas that
/// are dropped afterwards, whatever the run's outcome.
async fn on_postgres<F, Fut>(args: &BusBench, url: &str, run: F) -> anyhow::Result<Row>
where
    F: FnOnce(DbOptions, BusOptions) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Row>>,
{
    let unique = unique();
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let prefix = format!("bench_{unique}");
    let db_options = db_options(dir.path(), Some(args.postgres_url.clone()), prefix.clone());
    let result = run(db_options.clone(), options(Some(url.to_owned()), &unique)).await;
    cleanup_schemas(&db_options, &prefix).await;
    result
}

async fn nats(args: &BusBench) -> anyhow::Result<Row> {
    on_postgres(args, &args.nats_url, |db_options, options| async move {
        let result = async {
            let (seconds, p50, p99) = measure_bus(args, &db_options, options.clone()).await?;
            let (single, parallel) = jetstream_ceiling(args, &options).await?;
            let mut row = row(
                args,
                "nats",
                "postgres",
                seconds,
                p50,
                p99,
                "jetstream publish+ack",
                single,
            );
            row.raw_parallel_per_sec = Some(parallel);
            anyhow::Ok(row)
        }
        .await;
        delete_stream(&options).await;
        result
    })
    .await
}

async fn kafka(args: &BusBench) -> anyhow::Result<Row> {
    on_postgres(args, &args.kafka_url, |db_options, options| async move {
        let (seconds, p50, p99) = measure_bus(args, &db_options, options.clone()).await?;
        let raw = kafka_ceiling(args, &options).await?;
        Ok(row(
            args,
            "kafka",
            "postgres",
            seconds,
            p50,
            p99,
            "kafka produce (acks=all)",
            raw,
        ))
    })
    .await
}

fn unique() -> String {
    let id = ordo_kernel::new_id().simple().to_string();
    id[id.len() - 10..].to_owned()
}

fn db_options(dir: &Path, url: Option<String>, schema_prefix: String) -> DbOptions {
    DbOptions {
        data_dir: dir.to_path_buf(),
        url: url.map(Secret::new),
        schema_prefix,
        max_connections: 16,
        acquire_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(60),
    }
}

#[expect(clippy::too_many_arguments, reason = "one table row")]
fn row(
    args: &BusBench,
    backend: &'static str,
    storage: &'static str,
    seconds: f64,
    p50: f64,
    p99: f64,
    raw_ceiling: &'static str,
    raw_per_sec: f64,
) -> Row {
    let events_per_sec = args.events as f64 / seconds;
    Row {
        backend,
        storage,
        events: args.events,
        producers: args.producers,
        batch: args.batch,
        append: args.append,
        rate: args.rate,
        seconds,
        events_per_sec,
        latency_p50_ms: p50,
        latency_p99_ms: p99,
        raw_ceiling,
        raw_per_sec,
        ratio: events_per_sec / raw_per_sec,
        raw_parallel_per_sec: None,
    }
}

/// Publishes `args.events` through the outbox and waits until the sink has handled them
/// all. Returns seconds from the first publish to the last handle, and latency p50/p99 (ms).
async fn measure_bus(
    args: &BusBench,
    db_options: &DbOptions,
    options: BusOptions,
) -> anyhow::Result<(f64, f64, f64)> {
    let producer = open(db_options, "bench_producer").await?;
    let consumer = open(db_options, "bench_consumer").await?;
    // Microseconds, up to an hour.
    let sink = Arc::new(Sink {
        latency: Mutex::new(Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?),
    });
    let mut bus = Bus::new(options);
    let outbox = bus.outbox("bench_producer", producer.clone());
    let stats = bus.subscribe(
        Subscription::new("bench-sink", consumer.clone())
            .on(&sink, |sink, _tx, _tick: Tick, event| {
                Box::pin(std::future::ready(sink.record(event)))
            }),
    )?;
    let running = bus.start().await?;
    let started = Instant::now();
    let mut producers = tokio::task::JoinSet::new();
    for p in 0..args.producers {
        let outbox = outbox.clone();
        let plan = Plan::new(args, p);
        producers.spawn(async move { produce(&outbox, plan).await });
    }
    while let Some(done) = producers.join_next().await {
        done??;
    }
    let produced = started.elapsed().as_secs_f64();
    let target = args.events as u64;
    let mut relayed = None;
    while stats.handled() < target {
        tokio::time::sleep(Duration::from_millis(2)).await;
        if relayed.is_none() && unpublished(&producer).await? == 0 {
            relayed = Some(started.elapsed().as_secs_f64());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        produced_per_sec = args.events as f64 / produced,
        relayed_per_sec = relayed.map(|s| args.events as f64 / s),
        handled_per_sec = args.events as f64 / seconds,
        "bus benchmark stages"
    );
    running.stop(Duration::from_secs(10)).await;
    producer.close().await;
    consumer.close().await;
    let latency = sink
        .latency
        .lock()
        .map_err(|_| anyhow::anyhow!("latency histogram poisoned"))?;
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    Ok((seconds, ms(0.5), ms(0.99)))
}

async fn unpublished(db: &Db) -> anyhow::Result<i64> {
    let (waiting,) = db
        .fetch_one(
            "SELECT COUNT(*) FROM bus_outbox WHERE published_at IS NULL",
            ordo_db::params![],
        )
        .await?;
    Ok(waiting)
}

/// What one producer publishes: events first, first+stride, … in transactions of `batch`.
#[derive(Debug, Clone, Copy)]
struct Plan {
    first: usize,
    stride: usize,
    events: usize,
    batch: usize,
    subjects: usize,
    append: Append,
    rate: Option<u32>,
}

impl Plan {
    fn new(args: &BusBench, first: usize) -> Self {
        Plan {
            first,
            stride: args.producers,
            events: args.events,
            batch: args.batch,
            subjects: args.subjects,
            append: args.append,
            rate: args.rate,
        }
    }

    fn chunks(&self) -> Vec<Vec<usize>> {
        let mine: Vec<usize> = (self.first..self.events).step_by(self.stride).collect();
        mine.chunks(self.batch).map(<[usize]>::to_vec).collect()
    }
}

async fn produce(outbox: &Outbox, plan: Plan) -> anyhow::Result<()> {
    // Each producer its share of the rate, a transaction at a time.
    let mut pace = plan.rate.map(|rate| {
        let share = f64::from(rate) / plan.stride as f64;
        let mut interval =
            tokio::time::interval(Duration::from_secs_f64(plan.batch as f64 / share.max(1.0)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    for chunk in plan.chunks() {
        if let Some(pace) = &mut pace {
            pace.tick().await;
        }
        let ticks: Vec<(String, Tick)> = chunk
            .iter()
            .map(|n| (format!("s{}", n % plan.subjects), Tick { n: *n }))
            .collect();
        let mut tx = outbox.db().begin().await?;
        match plan.append {
            Append::Batch => {
                let events: Vec<(&str, &Tick)> = ticks
                    .iter()
                    .map(|(subject, tick)| (subject.as_str(), tick))
                    .collect();
                outbox
                    .append_all(&mut tx, &events, &EventMeta::default())
                    .await?;
            }
            Append::Each => {
                for (subject, tick) in &ticks {
                    outbox
                        .append(&mut tx, subject, tick, &EventMeta::default())
                        .await?;
                }
            }
        }
        outbox.commit(tx).await?;
    }
    Ok(())
}

/// The same rows, batching and concurrency, into a bare table: the database's own ceiling.
async fn commit_loop(args: &BusBench, db_options: &DbOptions) -> anyhow::Result<f64> {
    let db = Db::connect(db_options, "bench_raw").await?;
    db.migrate(&[ordo_db::Migration {
        version: 1,
        name: "0001_create_raw",
        sqlite: "CREATE TABLE raw (id TEXT PRIMARY KEY, subject TEXT NOT NULL, data TEXT NOT NULL);",
        postgres: "CREATE TABLE raw (id uuid PRIMARY KEY, subject TEXT NOT NULL, data TEXT NOT NULL);",
    }])
    .await?;
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for first in 0..args.producers {
        let db = db.clone();
        let plan = Plan::new(args, first);
        writers.spawn(async move {
            for chunk in plan.chunks() {
                let mut tx = db.begin().await?;
                let statements: Vec<&[usize]> = match plan.append {
                    Append::Batch => vec![&chunk[..]],
                    Append::Each => chunk.chunks(1).collect(),
                };
                for rows in statements {
                    let values = (0..rows.len())
                        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!("INSERT INTO raw (id, subject, data) VALUES {values}");
                    let mut params = Vec::with_capacity(rows.len() * 3);
                    for n in rows {
                        params.extend([
                            ordo_kernel::new_id().encode(),
                            format!("s{}", n % plan.subjects).encode(),
                            format!("{{\"n\":{n}}}").encode(),
                        ]);
                    }
                    tx.execute(&sql, &params).await?;
                }
                tx.commit().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done??;
    }
    let rate = args.events as f64 / started.elapsed().as_secs_f64();
    db.close().await;
    Ok(rate)
}

/// Plain JetStream publish-with-ack of as many envelope-sized messages: from one publisher
/// keeping as many acknowledgements outstanding as the relay does (the relay is one ordered
/// publisher per outbox), and from `producers` such publishers at once.
async fn jetstream_ceiling(args: &BusBench, options: &BusOptions) -> anyhow::Result<(f64, f64)> {
    let client = async_nats::connect(&args.nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let stream = format!("{}_RAW", options.stream);
    let prefix = format!("{}raw", options.subject_prefix);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![format!("{prefix}.>")],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let subject = format!("{prefix}.bench.ticked");
    let single = publish_rate(&js, &subject, args.events, 1).await;
    let parallel = publish_rate(&js, &subject, args.events, args.producers).await;
    let _ = js.delete_stream(&stream).await;
    Ok((single?, parallel?))
}

/// Messages per second publishing `events` messages from `publishers` tasks.
async fn publish_rate(
    js: &async_nats::jetstream::Context,
    subject: &str,
    events: usize,
    publishers: usize,
) -> anyhow::Result<f64> {
    // The client allows 5000 unacknowledged publishes in all; waiting for a permit while
    // holding unawaited acknowledgements would deadlock the publishers.
    let outstanding = (4000 / publishers).clamp(1, 2000);
    let payload = bytes::Bytes::from(vec![b'x'; 420]);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for p in 0..publishers {
        let (js, payload, subject) = (js.clone(), payload.clone(), subject.to_owned());
        let mine = (p..events).step_by(publishers).count();
        tasks.spawn(async move {
            let mut acks = std::collections::VecDeque::with_capacity(outstanding);
            for _ in 0..mine {
                let message = async_nats::jetstream::message::PublishMessage::build()
                    .payload(payload.clone())
                    .message_id(ordo_kernel::new_id().to_string());
                acks.push_back(js.send_publish(subject.clone(), message).await?);
                if acks.len() == outstanding
                    && let Some(ack) = acks.pop_front()
                {
                    ack.await?;
                }
            }
            for ack in acks {
                ack.await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

/// Deletes the throw-away stream of a run on NATS.
async fn delete_stream(options: &BusOptions) {
    if let Some(url) = &options.url
        && let Ok(client) = async_nats::connect(url.as_str()).await
    {
        let _ = async_nats::jetstream::new(client)
            .delete_stream(&options.stream)
            .await;
    }
}

/// Drops the throw-away schemas of a run on PostgreSQL.
async fn cleanup_schemas(db_options: &DbOptions, prefix: &str) {
    if let Ok(db) = Db::connect(db_options, "bench_producer").await
        && let Ok(mut tx) = db.begin().await
    {
        for service in ["bench_producer", "bench_consumer", "bench_raw"] {
            let drop = format!("DROP SCHEMA IF EXISTS {prefix}_{service} CASCADE");
            let _ = tx.execute(&drop, ordo_db::params![]).await;
        }
        let _ = tx.commit().await;
    }
}

/// Plain Kafka produce of as many envelope-sized messages, keyed by subject, with the
/// relay's producer settings (idempotent, `acks=all`) and as many deliveries outstanding
/// as the relay keeps (4 batches of 1 000): the brokers' own ceiling for what the relay does.
async fn kafka_ceiling(args: &BusBench, options: &BusOptions) -> anyhow::Result<f64> {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let mut config = ClientConfig::new();
    config.set(
        "bootstrap.servers",
        args.kafka_url.trim_start_matches("kafka://"),
    );
    let topic = format!("{}.raw", options.subject_prefix);
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let made = admin
        .create_topics(
            &[NewTopic::new(
                &topic,
                options.partitions,
                TopicReplication::Fixed(1),
            )],
            &AdminOptions::new(),
        )
        .await?;
    for result in made {
        result.map_err(|(topic, code)| anyhow::anyhow!("cannot create {topic}: {code}"))?;
    }
    let producer: FutureProducer = config
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "2")
        .create()?;
    let payload = vec![b'x'; 420];
    let started = Instant::now();
    let mut acks = std::collections::VecDeque::with_capacity(4000);
    for n in 0..args.events {
        let key = format!("s{}", n % args.subjects);
        let record = FutureRecord::to(&topic).key(&key).payload(&payload);
        let ack = producer
            .send_result(record)
            .map_err(|(error, _)| anyhow::anyhow!("produce: {error}"))?;
        acks.push_back(ack);
        if acks.len() == 4000
            && let Some(ack) = acks.pop_front()
        {
            ack.await?
                .map_err(|(error, _)| anyhow::anyhow!("delivery: {error}"))?;
        }
    }
    for ack in acks {
        ack.await?
            .map_err(|(error, _)| anyhow::anyhow!("delivery: {error}"))?;
    }
    let rate = args.events as f64 / started.elapsed().as_secs_f64();
    let topics = [
        topic.as_str(),
        &format!("{}.bench_producer", options.subject_prefix),
        &format!("{}._wake", options.subject_prefix),
    ];
    let _ = admin.delete_topics(&topics, &AdminOptions::new()).await;
    Ok(rate)
}
