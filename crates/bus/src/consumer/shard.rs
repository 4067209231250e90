//! One shard of a consumer: its subjects in order, batches, events held back until their
//! predecessors come, retries with backoff per subject, dead letters at the limit.

use super::Shared;
use super::batch::{BatchFailure, Outcome, dead_letter, run_batch};
use crate::ack::Delivery;
use crate::faults::FaultPoint;
use crate::handler::HandlerError;
use crate::store::DeadLetter;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A subject of one source (source, subject): the unit of order.
type Key = (String, String);

fn key_of(delivery: &Delivery) -> Key {
    (
        delivery.event.source.clone(),
        delivery.event.subject.clone(),
    )
}

/// A held event is looked at again after 25 ms, doubling up to a second: its predecessor
/// handled here wakes it at once, one handled by another instance is seen this way.
const HOLD_FIRST_LOOK: Duration = Duration::from_millis(25);
const HOLD_LONGEST_LOOK: Duration = Duration::from_secs(1);

fn hold_delay(looks: u32) -> Duration {
    HOLD_FIRST_LOOK
        .saturating_mul(1 << looks.min(10))
        .min(HOLD_LONGEST_LOOK)
}

/// Why a lane's head waits.
enum Wait {
    /// Its handler failed `attempts` times, the first at `first_failed`.
    Failed {
        attempts: u32,
        first_failed: OffsetDateTime,
    },
    /// It came early (`cause`): held back since `since`, looked at again `looks` times.
    Held {
        since: Instant,
        first_held: OffsetDateTime,
        looks: u32,
        cause: Early,
    },
}

/// Why an event is early.
enum Early {
    /// Events of its subject that precede it have not come; the consumer stood at `after`.
    Behind { after: u64 },
    /// Its handler found that an event of another source it follows has not been handled
    /// (`what`, in the handler's words).
    Awaiting { what: String },
}

impl Early {
    /// What the dead letter says once the event has waited `waited` and is given up on.
    fn gap(&self, event: &crate::envelope::Envelope, waited: Duration) -> String {
        let waited = waited.as_secs();
        match self {
            Early::Behind { after } => {
                let seq = event.subject_seq.unwrap_or(after + 1);
                format!(
                    "sequence gap: events {first}..={last} of {source} about {subject} never came (waited {waited} s); this is event {seq}, not handled",
                    first = after + 1,
                    last = seq.saturating_sub(1),
                    source = event.source,
                    subject = event.subject,
                )
            }
            Early::Awaiting { what } => format!(
                "sequence gap: what this event follows never came (waited {waited} s): {what}"
            ),
        }
    }
}

/// A subject whose head event waits (for a retry, or for its predecessors), the later
/// events of the subject behind it.
struct Lane {
    head: Delivery,
    wait: Wait,
    retry_at: Instant,
    behind: VecDeque<Delivery>,
}

impl Lane {
    /// Whether `delivery`, of the lane's subject, goes ahead of it: it precedes a held head.
    fn lets_pass(&self, delivery: &Delivery) -> bool {
        matches!(self.wait, Wait::Held { .. })
            && matches!(
                (delivery.event.subject_seq, self.head.event.subject_seq),
                (Some(seq), Some(head)) if seq < head
            )
    }
}

pub(super) struct Shard {
    shared: Arc<Shared>,
    input: mpsc::Receiver<Delivery>,
    stop: watch::Receiver<bool>,
    ready: VecDeque<Delivery>,
    /// This many events at the front of `ready` are handled one per transaction: a batch
    /// with them failed, and which one failed is found by handling them alone.
    alone: usize,
    lanes: HashMap<Key, Lane>,
    input_open: bool,
}

impl Shard {
    pub(super) fn new(
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
        match self.lanes.get_mut(&key_of(&delivery)) {
            Some(lane) if !lane.lets_pass(&delivery) => lane.behind.push_back(delivery),
            _ => self.ready.push_back(delivery),
        }
    }

    fn next_retry(&self) -> Option<Instant> {
        self.lanes.values().map(|lane| lane.retry_at).min()
    }

    pub(super) async fn run(mut self) {
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
            let crashed = if let Some(key) = self.due_lane() {
                self.retry(key).await
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

    fn due_lane(&self) -> Option<Key> {
        let now = Instant::now();
        self.lanes
            .iter()
            .filter(|(_, lane)| lane.retry_at <= now)
            .min_by_key(|(_, lane)| lane.retry_at)
            .map(|(key, _)| key.clone())
    }

    /// Handles the next batch from `ready`. Returns true when a fault point crashed it.
    async fn handle_ready(&mut self) -> bool {
        let take = if self.alone > 0 {
            1
        } else {
            self.shared.options.batch_size.max(1)
        };
        // One event a handler wants per transaction, when the subscription asks for it; the
        // events it passes over (most of a source's) go along, as they lock only positions.
        let one_wanted = self.alone == 0 && self.shared.one_per_transaction();
        let mut wanted = false;
        let mut batch = Vec::with_capacity(take);
        while batch.len() < take {
            let Some(delivery) = self.ready.pop_front() else {
                break;
            };
            match self.lanes.get_mut(&key_of(&delivery)) {
                Some(lane) if !lane.lets_pass(&delivery) => lane.behind.push_back(delivery),
                _ if one_wanted && self.shared.sub.wants(&delivery.event.event_type) => {
                    if wanted {
                        self.ready.push_front(delivery);
                        break;
                    }
                    wanted = true;
                    batch.push(delivery);
                }
                _ => batch.push(delivery),
            }
            self.alone = self.alone.saturating_sub(1);
        }
        if batch.is_empty() {
            return false;
        }
        // A subject's events in their order, so that one delivered early waits in the same
        // batch as the one it follows rather than behind it.
        batch.sort_by(|a, b| {
            let (a, b) = (&a.event, &b.event);
            (&a.source, &a.subject, a.subject_seq).cmp(&(&b.source, &b.subject, b.subject_seq))
        });
        match self.transact(&batch, 1).await {
            Ok(outcomes) => self.finish(batch, &outcomes).await,
            Err(BatchFailure::Handler(error)) if batch.len() > 1 => {
                // Which event failed is found by handling the batch's events one at a time.
                tracing::debug!(consumer = %self.shared.sub.name, %error, "batch failed; handling its events one by one");
                self.alone += batch.len();
                for delivery in batch.into_iter().rev() {
                    self.ready.push_front(delivery);
                }
                false
            }
            Err(BatchFailure::Handler(HandlerError::Early(what))) => {
                let delivery = batch.pop().expect("a batch of one");
                self.hold(delivery, Early::Awaiting { what }, VecDeque::new());
                false
            }
            Err(BatchFailure::Handler(error)) => {
                let delivery = batch.pop().expect("a batch of one");
                self.failed(delivery, 0, None, error).await;
                false
            }
            Err(BatchFailure::Storage(error)) => {
                self.storage_failed(batch, &error).await;
                false
            }
        }
    }

    /// Tries the head of a due lane again, alone. Returns true when a fault point crashed it.
    async fn retry(&mut self, key: Key) -> bool {
        let lane = self.lanes.remove(&key).expect("a due lane");
        let batch = vec![lane.head];
        let attempt = match lane.wait {
            Wait::Failed { attempts, .. } => {
                self.shared
                    .count(&self.shared.stats.retried, "bus_retried_total", 1);
                attempts + 1
            }
            Wait::Held { .. } => 1,
        };
        match self.transact(&batch, attempt).await {
            Ok(outcomes) => {
                if let (Some(Outcome::Held { after }), Wait::Held { .. }) =
                    (outcomes.first(), &lane.wait)
                {
                    let mut batch = batch;
                    let head = batch.pop().expect("a batch of one");
                    let cause = Early::Behind { after: *after };
                    self.still_held(key, head, lane.wait, cause, lane.behind)
                        .await;
                    return false;
                }
                for delivery in lane.behind.into_iter().rev() {
                    self.ready.push_front(delivery);
                }
                self.finish(batch, &outcomes).await
            }
            Err(BatchFailure::Handler(HandlerError::Early(what))) => {
                let mut batch = batch;
                let head = batch.pop().expect("a batch of one");
                let cause = Early::Awaiting { what };
                match lane.wait {
                    Wait::Held { .. } => {
                        self.still_held(key, head, lane.wait, cause, lane.behind)
                            .await;
                    }
                    Wait::Failed { .. } => self.hold(head, cause, lane.behind),
                }
                false
            }
            Err(BatchFailure::Handler(error)) => {
                let mut batch = batch;
                let head = batch.pop().expect("a batch of one");
                match lane.wait {
                    Wait::Failed {
                        attempts,
                        first_failed,
                    } => {
                        self.failed(head, attempts, Some((first_failed, lane.behind)), error)
                            .await;
                    }
                    Wait::Held { .. } => {
                        let now = ordo_kernel::time::now();
                        self.failed(head, 0, Some((now, lane.behind)), error).await;
                    }
                }
                false
            }
            Err(BatchFailure::Storage(error)) => {
                // Not the handler's fault: wait and try again without counting an attempt.
                let mut batch = batch;
                self.lanes.insert(
                    key,
                    Lane {
                        head: batch.pop().expect("a batch of one"),
                        wait: lane.wait,
                        retry_at: Instant::now() + self.shared.options.backoff(1),
                        behind: lane.behind,
                    },
                );
                tracing::warn!(consumer = %self.shared.sub.name, %error, "consumer storage failed");
                false
            }
        }
    }

    /// A held event is still early: look again later, or report the gap once it has waited
    /// `gap_timeout`.
    async fn still_held(
        &mut self,
        key: Key,
        head: Delivery,
        wait: Wait,
        cause: Early,
        behind: VecDeque<Delivery>,
    ) {
        let Wait::Held {
            since,
            first_held,
            looks,
            ..
        } = wait
        else {
            return;
        };
        if since.elapsed() < self.shared.options.gap_timeout {
            self.lanes.insert(
                key,
                Lane {
                    head,
                    wait: Wait::Held {
                        since,
                        first_held,
                        looks: looks + 1,
                        cause,
                    },
                    retry_at: Instant::now() + hold_delay(looks + 1),
                    behind,
                },
            );
            return;
        }
        let gap = cause.gap(&head.event, since.elapsed());
        tracing::error!(consumer = %self.shared.sub.name, event.id = %head.event.id, "{gap}");
        self.shared
            .count(&self.shared.stats.gaps, "bus_sequence_gaps_total", 1);
        self.failed(
            head,
            0,
            Some((first_held, behind)),
            HandlerError::reject(gap),
        )
        .await;
    }

    /// Runs the handlers of `batch` in one transaction with their inbox entries.
    async fn transact(
        &self,
        batch: &[Delivery],
        attempt: u32,
    ) -> Result<Vec<Outcome>, BatchFailure> {
        let events = batch.iter().map(|d| d.event.clone()).collect();
        run_batch(&self.shared, events, None, attempt).await
    }

    /// Acknowledges a committed batch and holds back its early events. Returns true when a
    /// fault point crashed it first.
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
        let count = |wanted: fn(&Outcome) -> bool| {
            outcomes.iter().filter(|outcome| wanted(outcome)).count() as u64
        };
        let handled = count(|o| *o == Outcome::Handled);
        let duplicates = count(|o| *o == Outcome::Duplicate);
        self.shared
            .count(&self.shared.stats.handled, "bus_handled_total", handled);
        if duplicates > 0 {
            self.shared.count(
                &self.shared.stats.duplicates,
                "bus_duplicates_total",
                duplicates,
            );
        }
        let mut moved = HashSet::new();
        for (delivery, outcome) in batch.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Held { after } => {
                    self.hold(delivery, Early::Behind { after: *after }, VecDeque::new());
                }
                _ => {
                    moved.insert(key_of(&delivery));
                    self.shared.ack(delivery).await;
                }
            }
        }
        // A held event whose subject just moved, in its source or another, may go on now.
        let now = Instant::now();
        let moved: HashSet<&str> = moved.iter().map(|(_, subject)| subject.as_str()).collect();
        for ((_, subject), lane) in &mut self.lanes {
            if matches!(lane.wait, Wait::Held { .. }) && moved.contains(subject.as_str()) {
                lane.retry_at = now;
            }
        }
        false
    }

    /// Holds back `delivery`, early (`cause`), in a lane headed by the earliest of its
    /// subject, `behind` after it.
    fn hold(&mut self, delivery: Delivery, cause: Early, behind: VecDeque<Delivery>) {
        let key = key_of(&delivery);
        if let Some(lane) = self.lanes.get_mut(&key) {
            if lane.lets_pass(&delivery) {
                let later = std::mem::replace(&mut lane.head, delivery);
                lane.behind.push_front(later);
                if let Wait::Held { cause: held, .. } = &mut lane.wait {
                    *held = cause;
                }
            } else {
                lane.behind.push_back(delivery);
            }
            lane.behind.extend(behind);
            return;
        }
        tracing::debug!(
            consumer = %self.shared.sub.name,
            event.id = %delivery.event.id,
            event.subject = %delivery.event.subject,
            "event came early; holding it back"
        );
        self.shared
            .count(&self.shared.stats.held, "bus_held_total", 1);
        self.lanes.insert(
            key,
            Lane {
                head: delivery,
                wait: Wait::Held {
                    since: Instant::now(),
                    first_held: ordo_kernel::time::now(),
                    looks: 0,
                    cause,
                },
                retry_at: Instant::now() + hold_delay(0),
                behind,
            },
        );
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
        let key = key_of(&head);
        let (same, others): (VecDeque<Delivery>, VecDeque<Delivery>) = self
            .ready
            .drain(..)
            .partition(|delivery| key_of(delivery) == key);
        self.ready = others;
        // Events held back behind the failing one stay behind it.
        if let Some(held) = self.lanes.remove(&key) {
            behind.push_back(held.head);
            behind.extend(held.behind);
        }
        behind.extend(same);
        let retry_at = Instant::now() + self.shared.options.backoff(attempts.max(1));
        self.lanes.insert(
            key,
            Lane {
                head,
                wait: Wait::Failed {
                    attempts,
                    first_failed,
                },
                retry_at,
                behind,
            },
        );
    }

    async fn storage_failed(&mut self, batch: Vec<Delivery>, error: &ordo_db::Error) {
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
