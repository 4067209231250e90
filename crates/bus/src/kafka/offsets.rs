//! Which offsets a consumer group may commit. Events of one partition are handled out of
//! order (each subject in order, subjects at the same time, some held back or retried),
//! but a partition's committed offset says "everything before is done": it may only move
//! to the oldest event still being handled. Offsets are committed after the handler's
//! transaction committed; a rebalance or a crash redelivers what was not, and the inbox
//! drops it.

use super::broker::Context;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// One partition as this consumer holds it.
#[derive(Default)]
struct Partition {
    /// Grows each time the partition is assigned again: a delivery of an earlier
    /// assignment no longer counts.
    assignment: u64,
    /// Delivered and not yet done.
    pending: BTreeSet<i64>,
    /// After the last offset delivered.
    next: i64,
    /// The offset last committed (the next to read).
    committed: i64,
}

impl Partition {
    /// Where the group may resume: the oldest event not done, or after the last delivered.
    fn resume_at(&self) -> i64 {
        self.pending.first().copied().unwrap_or(self.next)
    }
}

/// The offsets of one consumer; shared by its deliveries and its rebalance callbacks.
#[derive(Default)]
pub(super) struct Offsets {
    partitions: Mutex<HashMap<(String, i32), Partition>>,
    /// Woken when an event is done: there may be an offset to commit.
    pub(super) done: Notify,
}

/// A delivered event's place, handed back when it is done.
pub(crate) struct Token {
    offsets: Arc<Offsets>,
    topic: String,
    partition: i32,
    offset: i64,
    assignment: u64,
}

impl Token {
    pub(crate) fn done(self) {
        let mut partitions = self.offsets.lock();
        if let Some(partition) = partitions.get_mut(&(self.topic, self.partition))
            && partition.assignment == self.assignment
        {
            partition.pending.remove(&self.offset);
        }
        drop(partitions);
        self.offsets.done.notify_one();
    }
}

impl Offsets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i32), Partition>> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a delivery; its token says when it is done.
    pub(super) fn delivered(self: &Arc<Self>, topic: &str, partition: i32, offset: i64) -> Token {
        let mut partitions = self.lock();
        let held = partitions
            .entry((topic.to_owned(), partition))
            .or_insert_with(|| Partition {
                committed: -1,
                ..Partition::default()
            });
        held.pending.insert(offset);
        held.next = held.next.max(offset + 1);
        Token {
            offsets: self.clone(),
            topic: topic.to_owned(),
            partition,
            offset,
            assignment: held.assignment,
        }
    }

    /// The offsets that moved since the last commit, marked committed; `None` when none did.
    pub(super) fn due(&self, only: Option<&TopicPartitionList>) -> Option<TopicPartitionList> {
        let mut due = TopicPartitionList::new();
        for ((topic, number), partition) in self.lock().iter_mut() {
            if only.is_some_and(|only| only.find_partition(topic, *number).is_none()) {
                continue;
            }
            let resume = partition.resume_at();
            if resume > partition.committed {
                if due
                    .add_partition_offset(topic, *number, Offset::Offset(resume))
                    .is_err()
                {
                    continue;
                }
                partition.committed = resume;
            }
        }
        (due.count() > 0).then_some(due)
    }

    /// Nothing delivered so far is to be committed.
    pub(super) fn forget(&self) {
        self.lock().clear();
    }

    /// The partitions in `revoked` leave this consumer: what is delivered of them and not
    /// done is another's now (redelivered there; the inbox drops what this one finishes).
    fn revoked(&self, revoked: &TopicPartitionList) {
        let mut partitions = self.lock();
        for element in revoked.elements() {
            if let Some(partition) =
                partitions.get_mut(&(element.topic().to_owned(), element.partition()))
            {
                partition.assignment += 1;
                partition.pending.clear();
                partition.next = 0;
                partition.committed = -1;
            }
        }
    }
}

/// A consumer's context: the bus's, plus its offsets and lag.
pub(super) struct ConsumerHooks {
    pub(super) client: Context,
    pub(super) offsets: Arc<Offsets>,
    /// The subscription's name, for the lag gauge.
    pub(super) name: String,
    /// Told when every connection of this consumer dropped: it is made again once the
    /// link is verified (a broker that came back empty must not be read with what the
    /// consumer knew of the one before).
    pub(super) cut_off: Arc<Notify>,
}

impl ClientContext for ConsumerHooks {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        self.client.log(level, facility, line);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.cut_off.notify_one();
        }
        self.client.error(error, reason);
    }

    /// The lag librdkafka measures for each assigned partition, summed.
    fn stats(&self, statistics: Statistics) {
        let lag: i64 = statistics
            .topics
            .values()
            .flat_map(|topic| topic.partitions.values())
            .filter(|partition| partition.partition >= 0)
            .map(|partition| partition.consumer_lag.max(0))
            .sum();
        metrics::gauge!("bus_consumer_lag", "consumer" => self.name.clone()).set(lag as f64);
    }
}

impl ConsumerContext for ConsumerHooks {
    /// Before partitions leave: what is done of them is committed, the rest forgotten. The
    /// commit is not waited for (this runs on the thread that reads): one lost only means
    /// redeliveries, which the inbox drops.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(revoked) = rebalance {
            if let Some(due) = self.offsets.due(Some(revoked))
                && let Err(error) = consumer.commit(&due, CommitMode::Async)
            {
                tracing::warn!(consumer = %self.name, %error, "cannot commit the offsets of revoked partitions");
            }
            self.offsets.revoked(revoked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resume(offsets: &Offsets) -> Vec<(i32, i64)> {
        let Some(due) = offsets.due(None) else {
            return Vec::new();
        };
        let mut resume: Vec<(i32, i64)> = due
            .elements()
            .iter()
            .map(|element| (element.partition(), element.offset().to_raw().unwrap()))
            .collect();
        resume.sort_unstable();
        resume
    }

    #[test]
    fn a_partition_resumes_at_its_oldest_event_not_done() {
        let offsets = Arc::new(Offsets::default());
        let mut tokens: Vec<Token> = (10..15)
            .map(|offset| offsets.delivered("t", 0, offset))
            .collect();
        let other = offsets.delivered("t", 1, 3);
        assert_eq!(resume(&offsets), [(0, 10), (1, 3)], "nothing done yet");
        assert!(resume(&offsets).is_empty(), "nothing moved since");

        // Done out of order: 12 and 13 first, then 10.
        let last = tokens.pop().unwrap();
        let thirteen = tokens.pop().unwrap();
        let twelve = tokens.pop().unwrap();
        twelve.done();
        thirteen.done();
        assert!(resume(&offsets).is_empty(), "10 still holds the partition");
        let eleven = tokens.pop().unwrap();
        tokens.pop().unwrap().done();
        assert_eq!(resume(&offsets), [(0, 11)]);
        eleven.done();
        assert_eq!(resume(&offsets), [(0, 14)]);
        last.done();
        other.done();
        assert_eq!(resume(&offsets), [(0, 15), (1, 4)]);
    }

    #[test]
    fn a_revoked_partition_forgets_what_it_had_delivered() {
        let offsets = Arc::new(Offsets::default());
        let early = offsets.delivered("t", 0, 5);
        let mut revoked = TopicPartitionList::new();
        revoked.add_partition("t", 0);
        offsets.revoked(&revoked);
        // Assigned again: redelivered from the committed offset.
        let again = offsets.delivered("t", 0, 5);
        early.done();
        assert_eq!(
            resume(&offsets),
            [(0, 5)],
            "the old delivery does not count"
        );
        again.done();
        assert_eq!(resume(&offsets), [(0, 6)]);
    }
}
