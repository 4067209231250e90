//! What the bus knows of its broker, on every broker backend. A guard looks at the broker
//! every few seconds, and at once when a relay or a consumer suspects something: while it
//! is found as it should be, the link is ready and events flow; when it had to be made
//! again (its store was lost, the cluster rebuilt), the events published within the resend
//! window are sent once more (the lost store may have held them undelivered; the inboxes
//! drop what was handled), and the link moves to a new generation, at which the consumers
//! attach to the broker again.

use crate::BusError;
use crate::options::BusOptions;
use crate::outbox::Outbox;
use crate::store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How often the guard looks at the broker while nothing seems wrong.
const CHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Not reachable, or not checked since something failed: publish nothing.
    Unverified,
    /// The broker holds what the bus needs. The generation grows each time it had to be
    /// made again.
    Ready(u64),
}

/// How the guard finds a broker as it should be.
pub(crate) trait Verify: Send {
    /// Looks at the broker, making what is missing; `Ok(true)` when it had to be made
    /// again (and what it lost was sent again): a new generation.
    fn verify(&mut self) -> impl Future<Output = Result<bool, BusError>> + Send;
}

/// Shared by the relays, the consumers and the guard of one bus; cheap to clone.
#[derive(Clone)]
pub(crate) struct Signals(Arc<Inner>);

struct Inner {
    link: watch::Sender<Link>,
    check: Notify,
}

impl Signals {
    pub(crate) fn new() -> Self {
        let (link, _) = watch::channel(Link::Unverified);
        Self(Arc::new(Inner {
            link,
            check: Notify::new(),
        }))
    }

    /// Something failed: stop publishing until the guard has looked.
    pub(crate) fn suspect(&self) {
        self.0.link.send_if_modified(|link| {
            let changed = *link != Link::Unverified;
            *link = Link::Unverified;
            changed
        });
        self.0.check.notify_one();
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Link> {
        self.0.link.subscribe()
    }

    /// Something failed for the `failures`-th time in a row: tells the guard to look, then
    /// waits the backoff; `false` when the bus stopped meanwhile.
    pub(crate) async fn failed(
        &self,
        options: &BusOptions,
        failures: u32,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        self.suspect();
        tokio::select! {
            () = tokio::time::sleep(options.backoff(failures.min(6))) => true,
            _ = stop.changed() => false,
        }
    }

    /// Keeps the broker as it should be until `stop`: looks every few seconds and at once
    /// when something is suspected; `what` names the broker in what readiness says.
    pub(crate) async fn guard(
        self,
        mut verifier: impl Verify,
        what: &'static str,
        options: BusOptions,
        mut stop: watch::Receiver<bool>,
    ) {
        // Nothing can be published until the broker is found.
        options
            .health
            .failing(&format!("{what} is not verified yet"));
        let mut generation = 0_u64;
        let mut failures = 0_u32;
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match verifier.verify().await {
                Ok(renewed) => {
                    failures = 0;
                    if renewed || generation == 0 {
                        generation += 1;
                    }
                    options.health.working();
                    self.0.link.send_if_modified(|link| {
                        let ready = Link::Ready(generation);
                        let changed = *link != ready;
                        *link = ready;
                        changed
                    });
                    CHECK_EVERY
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "{what} cannot be checked; retrying");
                    options.health.failing(&error);
                    self.0.link.send_replace(Link::Unverified);
                    options.backoff(failures.min(4))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.0.check.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Waits until the link is verified; returns its generation, or `None` when stopped.
pub(crate) async fn ready(
    link: &mut watch::Receiver<Link>,
    stop: &mut watch::Receiver<bool>,
) -> Option<u64> {
    loop {
        if let Link::Ready(generation) = *link.borrow_and_update() {
            return Some(generation);
        }
        if *stop.borrow() {
            return None;
        }
        tokio::select! {
            changed = link.changed() => if changed.is_err() { return None },
            _ = stop.changed() => {}
        }
    }
}

/// Marks every event `outbox` published within the resend window unpublished again; its
/// relay sends them before anything newer.
pub(crate) async fn resend(outbox: &Outbox, options: &BusOptions) -> Result<(), BusError> {
    let since = ordo_kernel::time::now() - options.resend_window;
    let resent = store::republish(outbox.db(), since).await?;
    metrics::counter!("bus_resent_total", "service" => outbox.source().to_owned())
        .increment(resent);
    if resent > 0 {
        tracing::warn!(
            source = outbox.source(),
            resent,
            "events sent again to a broker that lost them"
        );
        outbox.wake();
    }
    Ok(())
}
