//! What every relay shares: the lease that lets one instance relay an outbox at a time
//! (so per-subject order survives several instances), reading the outbox in order, marking
//! what was delivered, waiting for work, and the loop that relays to a broker.

use crate::BusError;
use crate::link::{self, Signals};
use crate::options::BusOptions;
use crate::outbox::Outbox;
use crate::store;
use ordo_db::Db;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const LEASE: &str = "relay";
/// Rows sent to a broker per batch, and batches awaiting acknowledgement at once.
const PUBLISH_BATCH: usize = 1000;
const WINDOW: usize = 4;

/// A broker the relay sends an outbox to.
pub(crate) trait Publisher: Send {
    /// The broker's acknowledgements of one batch, waited for later.
    type Acks: Send;
    /// The broker's name in what the relay logs.
    const BROKER: &'static str;

    /// The link to the broker, which the relay follows and tells when sending failed.
    fn signals(&self) -> &Signals;

    /// The broker was made again: what the publisher remembers of it is void.
    fn restart(&mut self) {}

    /// Sends `rows` in order, without waiting for the broker; returns what to wait for.
    fn publish(
        &mut self,
        rows: &[store::OutboxRow],
    ) -> impl Future<Output = Result<Self::Acks, BusError>> + Send;

    /// Waits until the broker has acknowledged every event of a batch.
    fn confirmed(&mut self, acks: Self::Acks) -> impl Future<Output = Result<(), BusError>> + Send;
}

/// Publishes the outbox in order, keeping up to `WINDOW` batches in flight: the next batch
/// goes out while the broker is still acknowledging the previous ones, and each batch is
/// marked once all of its acknowledgements are in. On a failure everything unmarked is sent
/// again from the oldest row; the broker or the inboxes drop the repeats.
pub(crate) async fn run<P: Publisher>(
    mut publisher: P,
    outbox: Outbox,
    options: BusOptions,
    holder: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut lease = Lease::new(outbox.db().clone(), holder, options.lease_ttl);
    let mut wait = Wait::new(options.poll_interval);
    let mut failures = 0_u32;
    let mut in_flight: VecDeque<(Vec<i64>, P::Acks)> = VecDeque::new();
    let mut marks = Marks::default();
    let mut reader = Reader::new();
    let mut link = publisher.signals().watch();
    let mut generation = 0_u64;
    loop {
        if *stop.borrow() {
            break;
        }
        let Some(ready) = link::ready(&mut link, &mut stop).await else {
            break;
        };
        if ready != generation {
            // The broker was made again: the guard marked recent rows to send again; start
            // from the oldest. Rows the lost broker acknowledged but that are not marked yet
            // are sent again too: marking them now would lose them with it.
            generation = ready;
            publisher.restart();
            in_flight.clear();
            marks = Marks::default();
            reader.rewind();
        }
        if !lease.hold().await {
            in_flight.clear();
            reader.rewind();
            wait.idle(&outbox, &mut stop).await;
            continue;
        }
        if marks.due(in_flight.is_empty()) && marks.flush(&outbox, &options).await.is_err() {
            return;
        }
        let outcome = if in_flight.len() < WINDOW {
            let Some(rows) = reader
                .read(&outbox, PUBLISH_BATCH, &mut wait, &mut stop)
                .await
            else {
                continue;
            };
            if rows.is_empty() {
                None
            } else {
                let seqs = rows.iter().map(|row| row.seq).collect();
                Some(
                    publisher
                        .publish(&rows)
                        .await
                        .map(|acks| in_flight.push_back((seqs, acks))),
                )
            }
        } else {
            None
        };
        let outcome = match outcome {
            Some(outcome) => outcome,
            None => {
                let Some((seqs, acks)) = in_flight.pop_front() else {
                    // Nothing in flight and nothing new: from the start at the next pass,
                    // which also finds rows committed late with a lower sequence, or marked
                    // to republish.
                    reader.rewind();
                    tokio::select! {
                        () = marks.deadline() => {}
                        () = wait.idle(&outbox, &mut stop) => {}
                    }
                    continue;
                };
                publisher.confirmed(acks).await.map(|()| {
                    failures = 0;
                    marks.add(seqs);
                })
            }
        };
        if let Err(error) = outcome {
            failures += 1;
            tracing::warn!(source = outbox.source(), %error, failures, "publishing to {} failed; retrying", P::BROKER);
            publisher
                .signals()
                .failed(&options, failures, &mut stop)
                .await;
            in_flight.clear();
            reader.rewind();
        }
    }
    lease.release().await;
}
/// Published rows are marked in groups: a mark is a commit, and one per delivered batch
/// would cost the producers' commits their turn at the writer. A row left unmarked by a
/// crash is only sent again.
const MARK_BATCH: usize = 4000;
const MARK_DELAY: std::time::Duration = std::time::Duration::from_millis(25);

pub(crate) struct Lease {
    db: Db,
    holder: String,
    ttl: Duration,
    valid_until: Option<Instant>,
}

impl Lease {
    pub(crate) fn new(db: Db, holder: String, ttl: Duration) -> Self {
        Self {
            db,
            holder,
            ttl,
            valid_until: None,
        }
    }

    /// Whether this instance may relay now, renewing the lease when a third of it is used.
    pub(crate) async fn hold(&mut self) -> bool {
        let now = Instant::now();
        if self
            .valid_until
            .is_some_and(|until| until > now + self.ttl * 2 / 3)
        {
            return true;
        }
        match store::acquire_lease(
            &self.db,
            LEASE,
            &self.holder,
            ordo_kernel::time::now(),
            self.ttl,
        )
        .await
        {
            Ok(true) => {
                // Counted from before the write, so this instance stops before another may start.
                self.valid_until = Some(now + self.ttl);
                true
            }
            Ok(false) => {
                self.valid_until = None;
                false
            }
            Err(error) => {
                tracing::warn!(service = self.db.service(), %error, "cannot renew the relay lease");
                self.valid_until.is_some_and(|until| until > Instant::now())
            }
        }
    }

    pub(crate) async fn release(&mut self) {
        if self.valid_until.take().is_some()
            && let Err(error) = store::release_lease(&self.db, LEASE, &self.holder).await
        {
            tracing::warn!(service = self.db.service(), %error, "cannot release the relay lease");
        }
    }
}

/// Waits for a commit in this process, the fallback poll, or the stop signal.
pub(crate) struct Wait {
    poll: tokio::time::Interval,
}

impl Wait {
    pub(crate) fn new(every: Duration) -> Self {
        let mut poll = tokio::time::interval(every);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self { poll }
    }

    pub(crate) async fn idle(&mut self, outbox: &Outbox, stop: &mut watch::Receiver<bool>) {
        tokio::select! {
            () = outbox.woken() => {}
            _ = self.poll.tick() => {}
            _ = stop.changed() => {}
        }
    }
}

/// A sequence number the cursor stepped over is looked at again for this long: a row of a
/// transaction that committed late (PostgreSQL gives the sequence at insert, not at
/// commit). Longer than any transaction that appends events should take; a row later still
/// is found by the next pass from the start, in the relay's idle time.
const HOLE_TTL: Duration = Duration::from_secs(30);
/// Holes looked at again at most; a larger gap (rows published before, or rolled back in
/// bulk) is left to the next pass from the start.
const MAX_HOLES: usize = 10_000;

/// Reads the outbox forward by sequence, in the order a subject's events were written. A
/// transaction may commit rows below the cursor after newer ones were read (its sequence
/// numbers were given before it committed): the cursor's holes. Each read looks at the
/// holes again after reading the new rows, in a later statement that sees every commit the
/// first saw, and returns what it finds there first. A subject's next event can only be
/// written once its previous one committed (the subject's counter is locked until then),
/// so a late row is always found no later than its subject's next event, and goes first.
pub(crate) struct Reader {
    cursor: i64,
    holes: BTreeMap<i64, Instant>,
}

impl Reader {
    pub(crate) fn new() -> Self {
        Self {
            cursor: 0,
            holes: BTreeMap::new(),
        }
    }

    /// From the start at the next read: finds rows committed late or marked to send again.
    pub(crate) fn rewind(&mut self) {
        self.cursor = 0;
        self.holes.clear();
    }

    /// The next unpublished rows, those found in the holes first; on a failure, logs it,
    /// waits, and returns `None`.
    pub(crate) async fn read(
        &mut self,
        outbox: &Outbox,
        limit: usize,
        wait: &mut Wait,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Vec<store::OutboxRow>> {
        match self.next(outbox.db(), limit).await {
            Ok(rows) => Some(rows),
            Err(error) => {
                tracing::warn!(source = outbox.source(), %error, "cannot read the outbox");
                wait.idle(outbox, stop).await;
                None
            }
        }
    }

    async fn next(
        &mut self,
        db: &Db,
        limit: usize,
    ) -> Result<Vec<store::OutboxRow>, ordo_db::Error> {
        let rows = store::unpublished(db, self.cursor, limit).await?;
        let now = Instant::now();
        // From the start, what lies below was published before: no holes to look at.
        if self.cursor > 0 {
            let mut expected = self.cursor + 1;
            for row in &rows {
                for seq in expected..row.seq {
                    if self.holes.len() >= MAX_HOLES {
                        break;
                    }
                    self.holes.insert(seq, now);
                }
                expected = row.seq + 1;
            }
        }
        self.cursor = rows.last().map_or(self.cursor, |row| row.seq);
        self.holes
            .retain(|_, seen| now.duration_since(*seen) < HOLE_TTL);
        if self.holes.is_empty() {
            return Ok(rows);
        }
        let holes: Vec<i64> = self.holes.keys().copied().collect();
        let mut late = store::unpublished_among(db, &holes).await?;
        if late.is_empty() {
            return Ok(rows);
        }
        for row in &late {
            self.holes.remove(&row.seq);
        }
        late.sort_by_key(|row| row.seq);
        late.extend(rows);
        Ok(late)
    }
}

/// Rows delivered and acknowledged, waiting to be marked published.
#[derive(Default)]
pub(crate) struct Marks {
    seqs: Vec<i64>,
    since: Option<Instant>,
}

/// The relay crashed at its fault point.
pub(crate) struct Crashed;

impl Marks {
    pub(crate) fn add(&mut self, seqs: impl IntoIterator<Item = i64>) {
        self.seqs.extend(seqs);
        if !self.seqs.is_empty() {
            self.since.get_or_insert_with(Instant::now);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.seqs.len()
    }

    /// Whether to mark now: plenty are waiting, the oldest has waited long enough, or the
    /// relay has nothing else to do.
    pub(crate) fn due(&self, idle: bool) -> bool {
        !self.seqs.is_empty()
            && (idle
                || self.seqs.len() >= MARK_BATCH
                || self
                    .since
                    .is_some_and(|since| since.elapsed() >= MARK_DELAY))
    }

    /// When the waiting marks become due by age.
    pub(crate) async fn deadline(&self) {
        match self.since {
            Some(since) => tokio::time::sleep_until(since + MARK_DELAY).await,
            None => std::future::pending().await,
        }
    }

    /// Marks the waiting rows published; returns them, or none when the database failed
    /// (they wait for the next try).
    pub(crate) async fn flush(
        &mut self,
        outbox: &Outbox,
        options: &crate::options::BusOptions,
    ) -> Result<Vec<i64>, Crashed> {
        if options
            .faults
            .hit(crate::faults::FaultPoint::RelayAfterPublish)
        {
            // Whoever waits for the crash may look now.
            options.progress.notify_waiters();
            return Err(Crashed);
        }
        match store::mark_published(outbox.db(), &self.seqs, ordo_kernel::time::now()).await {
            Ok(()) => {
                record_published(outbox.source(), self.seqs.len());
                options.progress.notify_waiters();
                self.since = None;
                Ok(std::mem::take(&mut self.seqs))
            }
            Err(error) => {
                tracing::warn!(source = outbox.source(), %error, "cannot mark events published");
                Ok(Vec::new())
            }
        }
    }
}

pub(crate) fn record_published(source: &str, count: usize) {
    metrics::counter!("bus_published_total", "service" => source.to_owned())
        .increment(count as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::EventMeta;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Rang {
        n: u32,
    }

    impl ordo_contracts::Event for Rang {
        const TYPE: &'static str = "bell.rang";
        const VERSION: u32 = 1;
        const SOURCE: &'static str = "belfry";
    }

    async fn append(outbox: &Outbox, tx: &mut ordo_db::Tx, subject: &str, n: u32) {
        outbox
            .append(tx, subject, &Rang { n }, &EventMeta::default())
            .await
            .unwrap();
    }

    fn seen(rows: &[store::OutboxRow]) -> Vec<(String, u64)> {
        rows.iter()
            .map(|row| {
                let event = &row.envelope;
                (event.subject.clone(), event.subject_seq.unwrap())
            })
            .collect()
    }

    /// PostgreSQL gives a row its sequence when it is written: a transaction committing
    /// after a newer one leaves a hole behind the cursor. Its rows are read before the next
    /// event of their subject, not after it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_row_committed_late_is_read_before_its_subjects_next() {
        let Some(backend) = ordo_testkit::postgres("relay::a_row_committed_late") else {
            return;
        };
        let dir = ordo_testkit::temp_dir();
        let db = backend.open(dir.path(), "belfry").await;
        db.migrate_component(crate::COMPONENT, &crate::migrations())
            .await
            .unwrap();
        let outbox = Outbox::new("belfry", db.clone());
        let mut reader = Reader::new();
        let mut tx = db.begin().await.unwrap();
        append(&outbox, &mut tx, "other", 1).await;
        tx.commit().await.unwrap();
        assert_eq!(
            seen(&reader.next(&db, 100).await.unwrap()),
            [("other".into(), 1)]
        );

        // Written first, committed last.
        let mut late = db.begin().await.unwrap();
        append(&outbox, &mut late, "x", 1).await;
        let mut tx = db.begin().await.unwrap();
        append(&outbox, &mut tx, "other", 2).await;
        tx.commit().await.unwrap();
        assert_eq!(
            seen(&reader.next(&db, 100).await.unwrap()),
            [("other".into(), 2)]
        );
        late.commit().await.unwrap();

        let mut tx = db.begin().await.unwrap();
        append(&outbox, &mut tx, "x", 2).await;
        tx.commit().await.unwrap();
        assert_eq!(
            seen(&reader.next(&db, 100).await.unwrap()),
            [("x".into(), 1), ("x".into(), 2)],
            "the late row first"
        );
        assert!(reader.next(&db, 100).await.unwrap().is_empty());
    }
}
