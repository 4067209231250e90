//! What both relays share: the lease that lets one instance relay an outbox at a time
//! (so per-subject order survives several instances), and waiting for work.

use crate::outbox::Outbox;
use crate::store;
use ordo_db::Db;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const LEASE: &str = "relay";

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

pub(crate) fn record_published(source: &str, count: usize) {
    metrics::counter!("bus_published_total", "service" => source.to_owned())
        .increment(count as u64);
}
