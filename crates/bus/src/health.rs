//! Whether the bus can publish: with NATS, whether the broker is connected and its stream
//! verified (the guard says so, and the connection when it drops; a relay's failure makes
//! the guard look again). Readiness asks how long it has been failing, so an instance that
//! cannot publish is taken out of a load balancer. The in-process bus never fails here.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Shared by every part of one bus; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct BusHealth {
    failing_since: Arc<Mutex<Option<Instant>>>,
}

impl BusHealth {
    /// Publishing failed; counted from the first failure until it works again.
    pub(crate) fn failing(&self) {
        let mut since = self.failing_since.lock().expect("bus health lock");
        if since.is_none() {
            *since = Some(Instant::now());
            metrics::gauge!("bus_publishing_failing").set(1.0);
        }
    }

    /// Publishing works.
    pub(crate) fn working(&self) {
        let mut since = self.failing_since.lock().expect("bus health lock");
        if since.take().is_some() {
            metrics::gauge!("bus_publishing_failing").set(0.0);
        }
    }

    /// How long publishing has been failing; `None` while it works.
    #[must_use]
    pub fn failing_for(&self) -> Option<Duration> {
        self.failing_since
            .lock()
            .expect("bus health lock")
            .map(|since| since.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_is_counted_from_the_first_failure_until_it_works() {
        let health = BusHealth::default();
        assert_eq!(health.failing_for(), None);
        health.failing();
        let first = health.failing_for().expect("failing");
        health.failing();
        assert!(health.failing_for().expect("still failing") >= first);
        health.working();
        assert_eq!(health.failing_for(), None);
    }
}
