//! Whether the bus can publish: with NATS, whether the broker is connected and its stream
//! verified (the guard says so, and the connection when it drops; a relay's failure makes
//! the guard look again). Readiness asks whether the broker was ever verified and how long
//! publishing has been failing, so an instance that cannot publish is taken out of a load
//! balancer, and says why. The in-process bus never fails here.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Shared by every part of one bus; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct BusHealth {
    state: Arc<Mutex<State>>,
    /// Notified at every report, for whoever waits for one.
    reported: Arc<Notify>,
}

#[derive(Debug)]
struct State {
    /// Publishing has worked at least once (or needs no broker).
    verified: bool,
    failing_since: Option<Instant>,
    /// Why publishing fails, in the broker's or the bus's words.
    reason: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            verified: true,
            failing_since: None,
            reason: None,
        }
    }
}

impl BusHealth {
    /// Events go through a broker not reached yet: nothing is published before it is.
    pub(crate) fn awaiting_broker(&self) {
        let mut state = self.state.lock().expect("bus health lock");
        state.verified = false;
        state.reason = Some("the broker has not been reached yet".to_owned());
    }

    /// Publishing failed (`reason`); counted from the first failure until it works again.
    pub(crate) fn failing(&self, reason: &impl std::fmt::Display) {
        let mut state = self.state.lock().expect("bus health lock");
        state.reason = Some(reason.to_string());
        if state.failing_since.is_none() {
            state.failing_since = Some(Instant::now());
            metrics::gauge!("bus_publishing_failing").set(1.0);
        }
        self.reported.notify_waiters();
    }

    /// Publishing works.
    pub(crate) fn working(&self) {
        let mut state = self.state.lock().expect("bus health lock");
        state.verified = true;
        state.reason = None;
        if state.failing_since.take().is_some() {
            metrics::gauge!("bus_publishing_failing").set(0.0);
        }
        self.reported.notify_waiters();
    }

    /// Notified whenever publishing is reported to fail or to work.
    #[must_use]
    pub fn reported(&self) -> &Notify {
        &self.reported
    }

    /// How long publishing has been failing; `None` while it works.
    #[must_use]
    pub fn failing_for(&self) -> Option<Duration> {
        self.state
            .lock()
            .expect("bus health lock")
            .failing_since
            .map(|since| since.elapsed())
    }

    /// Whether publishing has worked since the bus started (always, without a broker).
    #[must_use]
    pub fn verified(&self) -> bool {
        self.state.lock().expect("bus health lock").verified
    }

    /// Why publishing does not work, while it does not.
    #[must_use]
    pub fn reason(&self) -> Option<String> {
        self.state.lock().expect("bus health lock").reason.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_is_counted_from_the_first_failure_until_it_works() {
        let health = BusHealth::default();
        assert_eq!(health.failing_for(), None);
        assert!(health.verified(), "no broker, nothing to verify");
        health.awaiting_broker();
        assert!(!health.verified());
        health.failing(&"stream overlaps");
        let first = health.failing_for().expect("failing");
        health.failing(&"still overlaps");
        assert!(health.failing_for().expect("still failing") >= first);
        assert_eq!(health.reason().as_deref(), Some("still overlaps"));
        health.working();
        assert_eq!(health.failing_for(), None);
        assert!(health.verified());
        assert_eq!(health.reason(), None);
    }
}
