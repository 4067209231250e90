//! One shard of a consumer: its subjects in order, batches, retries with backoff per
//! subject, dead letters at the limit.

use super::Shared;
use super::batch::{BatchFailure, Outcome, dead_letter, run_batch};
use crate::ack::Delivery;
use crate::faults::FaultPoint;
use crate::handler::HandlerError;
use crate::store::DeadLetter;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A subject whose head event failed: it waits for its retry, later events behind it.
struct Lane {
    head: Delivery,
    attempts: u32,
    first_failed: OffsetDateTime,
    retry_at: Instant,
    behind: VecDeque<Delivery>,
}

pub(super) struct Shard {
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
        match self.lanes.get_mut(&delivery.event.subject) {
            Some(lane) => lane.behind.push_back(delivery),
            None => self.ready.push_back(delivery),
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

    /// Retries the head of a lane alone. Returns true when a fault point crashed it.
    async fn retry(&mut self, subject: String) -> bool {
        let lane = self.lanes.remove(&subject).expect("a due lane");
        let batch = vec![lane.head];
        self.shared
            .count(&self.shared.stats.retried, "bus_retried_total", 1);
        match self.transact(&batch, lane.attempts + 1).await {
            Ok(outcomes) => {
                for delivery in lane.behind.into_iter().rev() {
                    self.ready.push_front(delivery);
                }
                self.finish(batch, &outcomes).await
            }
            Err(BatchFailure::Handler(error)) => {
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
            Err(BatchFailure::Storage(error)) => {
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
        attempt: u32,
    ) -> Result<Vec<Outcome>, BatchFailure> {
        run_batch(&self.shared, batch.iter().map(|d| &*d.event), None, attempt).await
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
