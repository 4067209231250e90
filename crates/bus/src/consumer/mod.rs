//! Running a subscription: deliveries are spread over shards by subject (each shard
//! handles its subjects in order), placed in their subjects' order (`sequence`), handled
//! in batches inside one transaction with the inbox (`batch`), acknowledged after commit,
//! held back when early, retried with backoff, dead-lettered at the limit (`shard`).

mod batch;
mod sequence;
mod shard;

use crate::ack::Delivery;
use crate::handler::Subscription;
use crate::options::BusOptions;
use crate::store;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use time::OffsetDateTime;
use tokio::sync::{OnceCell, mpsc, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

/// Counters of one consumer, for tests, the benchmark and the metrics.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    pub handled: AtomicU64,
    pub duplicates: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub replayed: AtomicU64,
    /// Events held back because their subject's earlier events had not come.
    pub held: AtomicU64,
    /// Events whose earlier events never came: dead-lettered, naming the gap.
    pub gaps: AtomicU64,
    /// Delivered to this consumer and not yet acknowledged.
    pub in_flight: AtomicI64,
}

impl ConsumerStats {
    #[must_use]
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    #[must_use]
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    #[must_use]
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }

    #[must_use]
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    #[must_use]
    pub fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Relaxed)
    }

    #[must_use]
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    #[must_use]
    pub fn gaps(&self) -> u64 {
        self.gaps.load(Ordering::Relaxed)
    }
}

/// The counters each consumer keeps, labelled with its name.
const COUNTERS: [&str; 7] = [
    "bus_handled_total",
    "bus_held_total",
    "bus_sequence_gaps_total",
    "bus_duplicates_total",
    "bus_retried_total",
    "bus_dead_lettered_total",
    "bus_replayed_total",
];

pub(super) struct Shared {
    sub: Subscription,
    options: BusOptions,
    stats: Arc<ConsumerStats>,
    /// When the consumer first ran.
    since: OnceCell<OffsetDateTime>,
}

impl Shared {
    /// Whether each wanted event goes in a transaction of its own (see
    /// `Subscription::each_event_in_its_own_transaction`).
    fn one_per_transaction(&self) -> bool {
        self.sub.one_per_transaction && self.sub.db.dialect() == ordo_db::Dialect::Postgres
    }

    /// When the consumer first ran, recorded the first time it is asked (at start).
    async fn since(&self) -> Result<OffsetDateTime, ordo_db::Error> {
        self.since
            .get_or_try_init(|| {
                store::consumer_since(&self.sub.db, &self.sub.name, ordo_kernel::time::now())
            })
            .await
            .copied()
    }

    fn count(&self, counter: &AtomicU64, metric: &'static str, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
        metrics::counter!(metric, "consumer" => self.sub.name.clone()).increment(n);
        self.options.progress.notify_waiters();
    }

    async fn ack(&self, delivery: Delivery) {
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        delivery.ack.ack().await;
    }

    /// After a commit that handled events: the relay of what they published, and whoever
    /// waits for what they wrote, may look now.
    fn committed(&self, handled: &[Uuid]) {
        if let Some(outbox) = &self.sub.outbox {
            outbox.wake();
        }
        if let Some(committed) = &self.sub.committed {
            committed(handled);
        }
    }
}

/// Starts the tasks of one subscription: a dispatcher reading `input`, its shards, and the
/// replay of dead letters. They end when `stop` turns true or `input` closes.
pub(crate) fn spawn(
    tasks: &mut JoinSet<()>,
    sub: Subscription,
    options: BusOptions,
    stats: Arc<ConsumerStats>,
    mut input: mpsc::Receiver<Delivery>,
    stop: watch::Receiver<bool>,
) {
    // Every counter exists from the start, at 0: a rate or an increase over a counter
    // that has not counted yet is then 0, not absent (alerts on dead letters see growth).
    for metric in COUNTERS {
        metrics::counter!(metric, "consumer" => sub.name.clone()).increment(0);
    }
    let shared = Arc::new(Shared {
        sub,
        options,
        stats,
        since: OnceCell::new(),
    });
    let starting = shared.clone();
    tasks.spawn(async move {
        // Recorded now rather than at the first early event, which may come much later.
        if let Err(error) = starting.since().await {
            tracing::warn!(consumer = %starting.sub.name, %error, "cannot record when the consumer started; recording it later");
        }
    });
    let shards = shared.options.concurrency.max(1);
    let capacity = shared.options.batch_size.max(1) * 2;
    let mut senders = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (tx, rx) = mpsc::channel(capacity);
        senders.push(tx);
        tasks.spawn(shard::Shard::new(shared.clone(), rx, stop.clone()).run());
    }
    tasks.spawn(batch::replay_loop(shared.clone(), stop.clone()));
    let mut stop_dispatch = stop;
    tasks.spawn(async move {
        loop {
            let delivery = tokio::select! {
                delivery = input.recv() => delivery,
                _ = stop_dispatch.changed() => None,
            };
            let Some(delivery) = delivery else { break };
            shared.stats.in_flight.fetch_add(1, Ordering::Relaxed);
            let shard = shard_of(&delivery.event.subject, shards);
            if senders[shard].send(delivery).await.is_err() {
                break;
            }
        }
    });
}

fn shard_of(subject: &str, shards: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    subject.hash(&mut hasher);
    usize::try_from(hasher.finish() % shards as u64).unwrap_or(0)
}
