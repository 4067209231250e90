//! What both relays share: the lease that lets one instance relay an outbox at a time
//! (so per-subject order survives several instances), and waiting for work.

use crate::outbox::Outbox;
use crate::store;
use ordo_db::Db;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const LEASE: &str = "relay";
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

/// Reads the next unpublished rows; on a failure, logs it, waits, and returns `None`.
pub(crate) async fn read_outbox(
    outbox: &Outbox,
    after_seq: i64,
    limit: usize,
    wait: &mut Wait,
    stop: &mut watch::Receiver<bool>,
) -> Option<Vec<store::OutboxRow>> {
    match store::unpublished(outbox.db(), after_seq, limit).await {
        Ok(rows) => Some(rows),
        Err(error) => {
            tracing::warn!(source = outbox.source(), %error, "cannot read the outbox");
            wait.idle(outbox, stop).await;
            None
        }
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
