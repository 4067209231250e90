//! Running a subscription: deliveries are spread over shards by subject (each shard
//! handles its subjects in order), handled in batches inside one transaction with the
//! inbox, acknowledged after commit, retried with backoff, dead-lettered at the limit.

use crate::envelope::Envelope;
use crate::faults::FaultPoint;
use crate::handler::{HandlerError, Subscription};
use crate::options::BusOptions;
use crate::store::{self, DeadLetter};
use futures_util::FutureExt;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

/// How a delivery is acknowledged: to the in-process relay or to JetStream.
pub(crate) enum Ack {
    Embedded(Arc<crate::embedded::Pending>),
    Nats(Box<async_nats::jetstream::Message>),
}

impl Ack {
    async fn ack(self) {
        match self {
            Self::Embedded(pending) => pending.ack(),
            Self::Nats(message) => {
                if let Err(error) = message.ack().await {
                    // The broker redelivers it; the inbox recognises it then.
                    tracing::warn!(%error, "acknowledgement not sent");
                }
            }
        }
    }

    /// Tells JetStream a held event is still being worked on, so it is not redelivered.
    async fn keep_alive(&self) {
        if let Self::Nats(message) = self {
            let _ = message
                .ack_with(async_nats::jetstream::AckKind::Progress)
                .await;
        }
    }
}

pub(crate) struct Delivery {
    pub event: Arc<Envelope>,
    pub ack: Ack,
}

/// Counters of one consumer, for tests, the benchmark and the metrics.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    pub handled: AtomicU64,
    pub duplicates: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub replayed: AtomicU64,
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
}

struct Shared {
    sub: Subscription,
    options: BusOptions,
    stats: Arc<ConsumerStats>,
}

impl Shared {
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
    fn committed(&self) {
        if let Some(outbox) = &self.sub.outbox {
            outbox.wake();
        }
        if let Some(committed) = &self.sub.committed {
            committed.notify_waiters();
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
    let shared = Arc::new(Shared {
        sub,
        options,
        stats,
    });
    let shards = shared.options.concurrency.max(1);
    let capacity = shared.options.batch_size.max(1) * 2;
    let mut senders = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (tx, rx) = mpsc::channel(capacity);
        senders.push(tx);
        tasks.spawn(Shard::new(shared.clone(), rx, stop.clone()).run());
    }
    tasks.spawn(replay_loop(shared.clone(), stop.clone()));
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

/// A subject whose head event failed: it waits for its retry, later events behind it.
struct Lane {
    head: Delivery,
    attempts: u32,
    first_failed: OffsetDateTime,
    retry_at: Instant,
    behind: VecDeque<Delivery>,
}

enum Outcome {
    Handled,
    Duplicate,
}

struct Shard {
    shared: Arc<Shared>,
    input: mpsc::Receiver<Delivery>,
    stop: watch::Receiver<bool>,
    ready: VecDeque<Delivery>,
    /// This many events at the front of `ready` are handled one per transaction: a batch
    /// with them failed, and which one failed is found by handling them alone.
    alone: usize,
    lanes: HashMap<String, Lane>,
    input_open: bool,
}

impl Shard {
    fn new(
        shared: Arc<Shared>,
        input: mpsc::Receiver<Delivery>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self {
            shared,
            input,
            stop,
            ready: VecDeque::new(),
            alone: 0,
            lanes: HashMap::new(),
            input_open: true,
        }
    }

    fn accept(&mut self, delivery: Delivery) {
        match self.lanes.get_mut(&delivery.event.subject) {
            Some(lane) => lane.behind.push_back(delivery),
            None => self.ready.push_back(delivery),
        }
    }

    fn next_retry(&self) -> Option<Instant> {
        self.lanes.values().map(|lane| lane.retry_at).min()
    }

    async fn run(mut self) {
        let keep_alive_every = (self.shared.options.ack_wait / 3).max(Duration::from_millis(100));
        let mut keep_alive = tokio::time::interval(keep_alive_every);
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *self.stop.borrow() {
                return;
            }
            if self.ready.is_empty() && self.next_retry().is_none_or(|at| at > Instant::now()) {
                if !self.input_open && self.lanes.is_empty() {
                    return;
                }
                let wake_at = self.next_retry();
                tokio::select! {
                    delivery = self.input.recv(), if self.input_open => match delivery {
                        Some(delivery) => self.accept(delivery),
                        None => self.input_open = false,
                    },
                    () = sleep_until(wake_at) => {}
                    _ = keep_alive.tick() => self.keep_alive().await,
                    _ = self.stop.changed() => return,
                }
            }
            while self.ready.len() < self.shared.options.batch_size {
                match self.input.try_recv() {
                    Ok(delivery) => self.accept(delivery),
                    Err(_) => break,
                }
            }
            let crashed = if let Some(subject) = self.due_lane() {
                self.retry(subject).await
            } else if !self.ready.is_empty() {
                self.handle_ready().await
            } else {
                false
            };
            if crashed {
                return;
            }
        }
    }

    async fn keep_alive(&self) {
        for delivery in &self.ready {
            delivery.ack.keep_alive().await;
        }
        for lane in self.lanes.values() {
            lane.head.ack.keep_alive().await;
            for delivery in &lane.behind {
                delivery.ack.keep_alive().await;
            }
        }
    }

    fn due_lane(&self) -> Option<String> {
        let now = Instant::now();
        self.lanes
            .iter()
            .filter(|(_, lane)| lane.retry_at <= now)
            .min_by_key(|(_, lane)| lane.retry_at)
            .map(|(subject, _)| subject.clone())
    }

    /// Handles the next batch from `ready`. Returns true when a fault point crashed it.
    async fn handle_ready(&mut self) -> bool {
        let take = if self.alone > 0 {
            1
        } else {
            self.shared.options.batch_size.max(1)
        };
        let mut batch = Vec::with_capacity(take);
        while batch.len() < take {
            let Some(delivery) = self.ready.pop_front() else {
                break;
            };
            self.alone = self.alone.saturating_sub(1);
            if let Some(lane) = self.lanes.get_mut(&delivery.event.subject) {
                lane.behind.push_back(delivery);
            } else {
                batch.push(delivery);
            }
        }
        if batch.is_empty() {
            return false;
        }
        match self.transact(&batch, None).await {
            Ok(outcomes) => self.finish(batch, &outcomes).await,
            Err(Failure::Handler(error)) if batch.len() > 1 => {
                // Which event failed is found by handling the batch's events one at a time.
                tracing::debug!(consumer = %self.shared.sub.name, %error, "batch failed; handling its events one by one");
                self.alone += batch.len();
                for delivery in batch.into_iter().rev() {
                    self.ready.push_front(delivery);
                }
                false
            }
            Err(Failure::Handler(error)) => {
                let delivery = batch.pop().expect("a batch of one");
                self.failed(delivery, 0, None, error).await;
                false
            }
            Err(Failure::Storage(error)) => {
                self.storage_failed(batch, &error).await;
                false
            }
        }
    }

    /// Retries the head of a lane alone. Returns true when a fault point crashed it.
    async fn retry(&mut self, subject: String) -> bool {
        let lane = self.lanes.remove(&subject).expect("a due lane");
        let batch = vec![lane.head];
        self.shared
            .count(&self.shared.stats.retried, "bus_retried_total", 1);
        match self.transact(&batch, None).await {
            Ok(outcomes) => {
                for delivery in lane.behind.into_iter().rev() {
                    self.ready.push_front(delivery);
                }
                self.finish(batch, &outcomes).await
            }
            Err(Failure::Handler(error)) => {
                let mut batch = batch;
                let head = batch.pop().expect("a batch of one");
                self.failed(
                    head,
                    lane.attempts,
                    Some((lane.first_failed, lane.behind)),
                    error,
                )
                .await;
                false
            }
            Err(Failure::Storage(error)) => {
                // Not the handler's fault: wait and try again without counting an attempt.
                let mut batch = batch;
                self.lanes.insert(
                    subject,
                    Lane {
                        head: batch.pop().expect("a batch of one"),
                        attempts: lane.attempts,
                        first_failed: lane.first_failed,
                        retry_at: Instant::now() + self.shared.options.backoff(1),
                        behind: lane.behind,
                    },
                );
                tracing::warn!(consumer = %self.shared.sub.name, %error, "consumer storage failed");
                false
            }
        }
    }

    /// Runs the handlers of `batch` in one transaction with their inbox entries.
    async fn transact(
        &self,
        batch: &[Delivery],
        replay: Option<Uuid>,
    ) -> Result<Vec<Outcome>, Failure> {
        run_batch(&self.shared, batch.iter().map(|d| &*d.event), replay).await
    }

    /// Acknowledges a committed batch. Returns true when a fault point crashed it first.
    async fn finish(&mut self, batch: Vec<Delivery>, outcomes: &[Outcome]) -> bool {
        // Committed: whoever waits for the effect may look now.
        self.shared.options.progress.notify_waiters();
        if self
            .shared
            .options
            .faults
            .hit(FaultPoint::ConsumerAfterCommit)
        {
            self.shared.options.progress.notify_waiters();
            return true;
        }
        let handled = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Handled))
            .count() as u64;
        let duplicates = outcomes.len() as u64 - handled;
        self.shared
            .count(&self.shared.stats.handled, "bus_handled_total", handled);
        if duplicates > 0 {
            self.shared.count(
                &self.shared.stats.duplicates,
                "bus_duplicates_total",
                duplicates,
            );
        }
        for delivery in batch {
            self.shared.ack(delivery).await;
        }
        false
    }

    /// An event's handler failed: schedule a retry, or dead-letter it.
    async fn failed(
        &mut self,
        delivery: Delivery,
        attempts_before: u32,
        lane: Option<(OffsetDateTime, VecDeque<Delivery>)>,
        error: HandlerError,
    ) {
        let attempts = attempts_before + 1;
        let now = ordo_kernel::time::now();
        let (first_failed, behind) = lane.unwrap_or((now, VecDeque::new()));
        let give_up = matches!(error, HandlerError::Reject(_))
            || attempts >= self.shared.options.max_attempts;
        tracing::warn!(
            consumer = %self.shared.sub.name,
            event.id = %delivery.event.id,
            event.type = %delivery.event.event_type,
            event.subject = %delivery.event.subject,
            attempts,
            %error,
            dead_letter = give_up,
            "event handling failed"
        );
        if give_up {
            let letter = DeadLetter {
                id: ordo_kernel::id::new_id(),
                consumer: self.shared.sub.name.clone(),
                event_id: delivery.event.id,
                event_type: delivery.event.event_type.clone(),
                subject: delivery.event.subject.clone(),
                envelope: (*delivery.event).clone(),
                attempts,
                last_error: error.message().to_owned(),
                first_failed_at: first_failed,
                dead_at: now,
                replay_requested: false,
            };
            match dead_letter(&self.shared, &letter).await {
                Ok(()) => {
                    self.shared.count(
                        &self.shared.stats.dead_lettered,
                        "bus_dead_lettered_total",
                        1,
                    );
                    self.shared.ack(delivery).await;
                    for delivery in behind.into_iter().rev() {
                        self.ready.push_front(delivery);
                    }
                }
                Err(store_error) => {
                    tracing::warn!(consumer = %self.shared.sub.name, error = %store_error, "cannot write the dead letter; retrying");
                    self.block(delivery, attempts_before, first_failed, behind);
                }
            }
        } else {
            self.block(delivery, attempts, first_failed, behind);
        }
    }

    fn block(
        &mut self,
        head: Delivery,
        attempts: u32,
        first_failed: OffsetDateTime,
        mut behind: VecDeque<Delivery>,
    ) {
        // While a subject waits, none of its events may stay in `ready`: newer ones join
        // the lane as they arrive, so older ones must be in it already.
        let subject = head.event.subject.as_str();
        let (same, others): (VecDeque<Delivery>, VecDeque<Delivery>) = self
            .ready
            .drain(..)
            .partition(|delivery| delivery.event.subject == subject);
        self.ready = others;
        behind.extend(same);
        let retry_at = Instant::now() + self.shared.options.backoff(attempts.max(1));
        self.lanes.insert(
            head.event.subject.clone(),
            Lane {
                head,
                attempts,
                first_failed,
                retry_at,
                behind,
            },
        );
    }

    async fn storage_failed(&mut self, batch: Vec<Delivery>, error: &sqlx::Error) {
        tracing::warn!(consumer = %self.shared.sub.name, %error, "consumer storage failed");
        tokio::time::sleep(self.shared.options.backoff(1)).await;
        for delivery in batch.into_iter().rev() {
            self.ready.push_front(delivery);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

enum Failure {
    Handler(HandlerError),
    Storage(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(error)
    }
}

/// One transaction: take the replay request if this is a replay, claim the events in the
/// inbox, run the handlers of those not handled before in order, commit.
async fn run_batch<'a>(
    shared: &Shared,
    events: impl Iterator<Item = &'a Envelope>,
    replay: Option<Uuid>,
) -> Result<Vec<Outcome>, Failure> {
    let events: Vec<&Envelope> = events.collect();
    let mut ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = shared.sub.db.begin().await?;
    if let Some(letter) = replay
        && !store::take_replay(&mut tx, letter).await?
    {
        // Someone else took this replay.
        return Ok(vec![Outcome::Duplicate]);
    }
    let fresh = store::claim(&mut tx, &shared.sub.name, &ids, ordo_kernel::time::now()).await?;
    let mut done = HashSet::with_capacity(events.len());
    let mut outcomes = Vec::with_capacity(events.len());
    let mut handled = 0_usize;
    for event in &events {
        if !fresh.contains(&event.id) || !done.insert(event.id) {
            outcomes.push(Outcome::Duplicate);
            continue;
        }
        let started = std::time::Instant::now();
        let result = AssertUnwindSafe(shared.sub.handler.handle(&mut tx, event))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(HandlerError::retry("the handler panicked")));
        metrics::histogram!("bus_handle_duration_seconds", "consumer" => shared.sub.name.clone())
            .record(started.elapsed().as_secs_f64());
        if let Err(error) = result {
            return Err(Failure::Handler(error));
        }
        metrics::histogram!("bus_delivery_latency_seconds", "consumer" => shared.sub.name.clone())
            .record(
                (ordo_kernel::time::now() - event.time)
                    .as_seconds_f64()
                    .max(0.0),
            );
        handled += 1;
        outcomes.push(Outcome::Handled);
    }
    tx.commit().await?;
    if handled > 0 {
        shared.committed();
    }
    Ok(outcomes)
}

async fn dead_letter(shared: &Shared, letter: &DeadLetter) -> Result<(), sqlx::Error> {
    let mut tx = shared.sub.db.begin().await?;
    store::insert_dead_letter(&mut tx, letter).await?;
    tx.commit().await
}

/// Handles dead letters whose replay was asked for, each at most once more.
async fn replay_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(shared.options.poll_interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let letters = match store::replays(&shared.sub.db, &shared.sub.name).await {
            Ok(letters) => letters,
            Err(error) => {
                tracing::warn!(consumer = %shared.sub.name, %error, "cannot read replay requests");
                continue;
            }
        };
        for letter in letters {
            replay_one(&shared, letter).await;
        }
    }
}

async fn replay_one(shared: &Shared, letter: DeadLetter) {
    match run_batch(shared, std::iter::once(&letter.envelope), Some(letter.id)).await {
        Ok(outcomes) => {
            if matches!(outcomes.first(), Some(Outcome::Handled)) {
                shared.count(&shared.stats.replayed, "bus_replayed_total", 1);
                shared.count(&shared.stats.handled, "bus_handled_total", 1);
            }
        }
        Err(Failure::Handler(error)) => {
            tracing::warn!(consumer = %shared.sub.name, event.id = %letter.event_id, %error, "replayed event failed again");
            let again = DeadLetter {
                attempts: 1,
                last_error: error.message().to_owned(),
                dead_at: ordo_kernel::time::now(),
                ..letter
            };
            if let Err(error) = dead_letter(shared, &again).await {
                tracing::warn!(consumer = %shared.sub.name, %error, "cannot return the replayed event to the dead letters");
            }
            shared.options.progress.notify_waiters();
        }
        Err(Failure::Storage(error)) => {
            tracing::warn!(consumer = %shared.sub.name, %error, "replay failed; it stays requested");
        }
    }
}
