//! The bus conformance suite, run on every backend: the in-process bus on SQLite, NATS
//! JetStream and Kafka on PostgreSQL. Crashes are made with the bus's fault points; a broker
//! outage is a cut TCP proxy between the bus and the broker; a broker that lost its store
//! is a stream deleted behind the bus's back (NATS) or a broker restarted with an empty log
//! (Kafka, a tansu broker of the test's own).

use ordo_bus::{
    Bus, BusOptions, ConsumerStats, DeadLetters, Envelope, EventMeta, FaultPoint, HandlerError,
    Outbox, RunningBus, Subscription,
};
use ordo_contracts::Event;
use ordo_db::{Db, Migration, Tx, params};
use ordo_kernel::paging::PageRequest;
use ordo_testkit::{Backend, Tansu, TcpProxy};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use uuid::Uuid;

const CONSUMER: &str = "conformance-recorder";

#[derive(Debug, Serialize, Deserialize)]
struct Ticked {
    n: i64,
    /// `retry-once`, `poison` (fails until healed), `early` (follows something not handled
    /// until healed) or `reject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trouble: Option<String>,
}

impl Event for Ticked {
    const TYPE: &'static str = "clock.ticked";
    const VERSION: u32 = 1;
    const SOURCE: &'static str = "producer";
}

/// An event of the producer that the recorder does not handle: passed over.
#[derive(Debug, Serialize, Deserialize)]
struct Tocked {
    n: i64,
}

impl Event for Tocked {
    const TYPE: &'static str = "clock.tocked";
    const VERSION: u32 = 1;
    const SOURCE: &'static str = "producer";
}

const EFFECTS: Migration = Migration {
    version: 1,
    name: "0001_create_effects",
    sqlite: "CREATE TABLE effects (event_id TEXT NOT NULL, subject TEXT NOT NULL, n BIGINT NOT NULL, pos BIGINT NOT NULL);",
    postgres: "CREATE TABLE effects (event_id TEXT NOT NULL, subject TEXT NOT NULL, n BIGINT NOT NULL, pos BIGINT NOT NULL);",
};

/// Writes one effect row per event it handles, with a position that shows the order.
struct Recorder {
    position: Arc<AtomicI64>,
    healed: Arc<AtomicBool>,
    /// Attempts refused as poison or early, announced on `progress`.
    poisoned: Arc<AtomicI64>,
    progress: Arc<tokio::sync::Notify>,
    failed_once: Arc<std::sync::Mutex<HashSet<Uuid>>>,
}

impl Recorder {
    async fn record(
        &self,
        tx: &mut Tx,
        tick: Ticked,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        match tick.trouble.as_deref() {
            Some("retry-once") if self.failed_once.lock().unwrap().insert(event.id) => {
                return Err(HandlerError::retry("first attempt fails"));
            }
            Some("poison") if !self.healed.load(Ordering::SeqCst) => {
                self.poisoned.fetch_add(1, Ordering::SeqCst);
                self.progress.notify_waiters();
                return Err(HandlerError::retry("poison: cannot be handled"));
            }
            Some("early") if !self.healed.load(Ordering::SeqCst) => {
                self.poisoned.fetch_add(1, Ordering::SeqCst);
                self.progress.notify_waiters();
                return Err(HandlerError::early("what it follows is not here yet"));
            }
            Some("reject") => return Err(HandlerError::reject("rejected: makes no sense")),
            _ => {}
        }
        tx.execute(
            "INSERT INTO effects (event_id, subject, n, pos) VALUES ($1, $2, $3, $4)",
            params![
                event.id,
                event.subject,
                tick.n,
                self.position.fetch_add(1, Ordering::SeqCst)
            ],
        )
        .await
        .map_err(HandlerError::retry)?;
        Ok(())
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    producer: Db,
    consumer: Db,
    options: BusOptions,
    healed: Arc<AtomicBool>,
    poisoned: Arc<AtomicI64>,
    position: Arc<AtomicI64>,
    failed_once: Arc<std::sync::Mutex<HashSet<Uuid>>>,
    kind: Kind,
    proxy: Option<TcpProxy>,
    nats_url: Option<String>,
    tansu: Option<Tansu>,
    running: Option<(RunningBus, Outbox, Arc<ConsumerStats>)>,
    /// Whether the consumer handles each event in a transaction of its own.
    one_per_transaction: bool,
    /// How many events each of the consumer's commits handled, in order.
    commits: Arc<std::sync::Mutex<Vec<usize>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    EmbeddedSqlite,
    NatsPostgres,
    KafkaPostgres,
}

impl Harness {
    async fn new(kind: Kind, test: &str) -> Option<Self> {
        let (backend, nats, kafka) = match kind {
            Kind::EmbeddedSqlite => (Backend::Sqlite, None, None),
            Kind::NatsPostgres => {
                let backend = ordo_testkit::postgres(test)?;
                (backend, Some(ordo_testkit::nats(test)?), None)
            }
            Kind::KafkaPostgres => {
                let backend = ordo_testkit::postgres(test)?;
                (backend, None, Some(Tansu::behind_proxy(test).await?))
            }
        };
        let dir = ordo_testkit::temp_dir();
        let producer = backend.open(dir.path(), "producer").await;
        let consumer = backend.open(dir.path(), "consumer").await;
        for db in [&producer, &consumer] {
            db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
                .await
                .expect("bus migrations");
        }
        consumer.migrate(&[EFFECTS]).await.expect("effects table");
        let (proxy, tansu, url) = match (&nats, kafka) {
            (Some(url), _) => {
                let proxy = TcpProxy::in_front_of(url).await;
                let url = proxy.url_for(url);
                (Some(proxy), None, Some(url))
            }
            (None, Some((tansu, proxy))) => {
                let url = tansu.url();
                (Some(proxy), Some(tansu), Some(url))
            }
            (None, None) => (None, None, None),
        };
        let unique = ordo_testkit::unique_prefix();
        let options = BusOptions {
            url,
            partitions: 3,
            stream: format!("T_{unique}"),
            subject_prefix: unique,
            max_attempts: 3,
            retry_base: Duration::from_millis(5),
            retry_max: Duration::from_millis(50),
            batch_size: 64,
            ack_wait: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(1),
            poll_interval: Duration::from_millis(50),
            ..BusOptions::default()
        };
        Some(Self {
            _dir: dir,
            producer,
            consumer,
            options,
            healed: Arc::new(AtomicBool::new(false)),
            poisoned: Arc::new(AtomicI64::new(0)),
            position: Arc::new(AtomicI64::new(0)),
            failed_once: Arc::new(std::sync::Mutex::new(HashSet::new())),
            kind,
            proxy,
            nats_url: nats,
            tansu,
            running: None,
            one_per_transaction: false,
            commits: Arc::default(),
        })
    }

    fn assemble(&self) -> (Bus, Outbox, Arc<ConsumerStats>) {
        let mut bus = Bus::new(self.options.clone());
        let outbox = bus.outbox("producer", self.producer.clone());
        let recorder = Arc::new(Recorder {
            position: self.position.clone(),
            healed: self.healed.clone(),
            poisoned: self.poisoned.clone(),
            progress: self.options.progress.clone(),
            failed_once: self.failed_once.clone(),
        });
        let commits = self.commits.clone();
        let subscription = Subscription::new(CONSUMER, self.consumer.clone())
            .on(&recorder, |recorder, tx, tick: Ticked, event| {
                Box::pin(recorder.record(tx, tick, event))
            })
            .after_commit(move |ids| commits.lock().unwrap().push(ids.len()));
        let subscription = if self.one_per_transaction {
            subscription.each_event_in_its_own_transaction()
        } else {
            subscription
        };
        let stats = bus.subscribe(subscription).expect("subscribe");
        (bus, outbox, stats)
    }

    async fn start(&mut self) {
        let (bus, outbox, stats) = self.assemble();
        let running = bus.start().await.expect("start the bus");
        self.running = Some((running, outbox, stats));
    }

    /// A bus that only relays: events reach the broker, and nothing consumes them.
    async fn start_relay_only(&mut self) {
        let mut bus = Bus::new(self.options.clone());
        let outbox = bus.outbox("producer", self.producer.clone());
        let stats = Arc::new(ConsumerStats::default());
        let running = bus.start().await.expect("start the relay");
        self.running = Some((running, outbox, stats));
    }

    async fn stop(&mut self) {
        if let Some((running, _, _)) = self.running.take() {
            running.stop(Duration::from_secs(10)).await;
        }
    }

    fn stats(&self) -> Arc<ConsumerStats> {
        self.running.as_ref().expect("a running bus").2.clone()
    }

    /// An outbox to publish through: the running bus's (which wakes its relay) or a
    /// detached one while the bus is down.
    fn outbox(&self) -> Outbox {
        match &self.running {
            Some((_, outbox, _)) => outbox.clone(),
            None => Outbox::new("producer", self.producer.clone()),
        }
    }

    async fn publish(&self, events: &[(&str, i64, Option<&str>)]) -> Vec<Uuid> {
        let outbox = self.outbox();
        let mut tx = self.producer.begin().await.unwrap();
        let mut ids = Vec::new();
        for (subject, n, trouble) in events {
            let tick = Ticked {
                n: *n,
                trouble: trouble.map(str::to_owned),
            };
            ids.push(
                outbox
                    .append(&mut tx, subject, &tick, &EventMeta::default())
                    .await
                    .unwrap(),
            );
        }
        outbox.commit(tx).await.unwrap();
        ids
    }

    /// Every effect: (event id, subject, n), in the order they were made.
    async fn effects(&self) -> Vec<(String, String, i64)> {
        self.consumer
            .fetch_all(
                "SELECT event_id, subject, n FROM effects ORDER BY pos",
                params![],
            )
            .await
            .unwrap()
    }

    async fn effects_of(&self, id: Uuid) -> usize {
        self.effects()
            .await
            .iter()
            .filter(|(e, _, _)| *e == id.to_string())
            .count()
    }

    async fn unpublished(&self) -> i64 {
        let (waiting,) = self
            .producer
            .fetch_one(
                "SELECT COUNT(*) FROM bus_outbox WHERE published_at IS NULL",
                params![],
            )
            .await
            .unwrap();
        waiting
    }

    /// Waits until `check` holds, looking again whenever the bus makes progress.
    async fn until<F, Fut>(&self, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        ordo_testkit::until(&self.options.progress, what, check).await;
    }

    /// The broker loses everything it held, as after a restart on a wiped store: NATS's
    /// stream is deleted (by an operator's own connection), Kafka's broker restarted with an
    /// empty log.
    async fn lose_store(&mut self) {
        if let Some(tansu) = &mut self.tansu {
            tansu.restart_empty().await;
            return;
        }
        let url = self.nats_url.as_deref().expect("a broker run");
        let client = async_nats::connect(url).await.expect("connect to NATS");
        async_nats::jetstream::new(client)
            .delete_stream(&self.options.stream)
            .await
            .expect("delete the stream");
    }

    async fn cleanup(mut self) {
        self.stop().await;
        if let Some(url) = &self.nats_url {
            let client = async_nats::connect(url.as_str()).await.unwrap();
            let js = async_nats::jetstream::new(client);
            let _ = js.delete_stream(&self.options.stream).await;
        }
    }
}

macro_rules! conformance {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded_sqlite() {
                if let Some(h) = Harness::new(
                    Kind::EmbeddedSqlite,
                    concat!(stringify!($name), "::embedded_sqlite"),
                )
                .await
                {
                    super::$name(h).await;
                }
            }

            brokers!($name);
        }
    };
}

/// The NATS and Kafka runs of a test that needs a broker.
macro_rules! brokers {
    ($name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn nats_postgres() {
            if let Some(h) = Harness::new(
                Kind::NatsPostgres,
                concat!(stringify!($name), "::nats_postgres"),
            )
            .await
            {
                super::$name(h).await;
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn kafka_postgres() {
            if let Some(h) = Harness::new(
                Kind::KafkaPostgres,
                concat!(stringify!($name), "::kafka_postgres"),
            )
            .await
            {
                super::$name(h).await;
            }
        }
    };
}

/// A test run on the brokers only (the in-process bus has no broker).
macro_rules! on_brokers {
    ($name:ident) => {
        mod $name {
            use super::*;

            brokers!($name);
        }
    };
}

mod broker;
mod scenarios;
