//! Fault points: places in the bus where a test can make a component crash, to show that
//! a crash at exactly that moment loses nothing and duplicates nothing. Unarmed, a check is
//! one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// A consumer committed its transaction (effect and inbox) but has not acknowledged.
    ConsumerAfterCommit,
    /// The relay delivered a batch (the broker acknowledged it) but has not marked the
    /// outbox rows published.
    RelayAfterPublish,
}

#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    any: AtomicBool,
    armed: Mutex<HashMap<FaultPoint, u32>>,
    fired: Mutex<HashMap<FaultPoint, u32>>,
}

impl Faults {
    /// Makes the next `times` passes through `point` crash.
    ///
    /// # Panics
    /// If a previous holder of the lock panicked.
    pub fn arm(&self, point: FaultPoint, times: u32) {
        self.0
            .armed
            .lock()
            .expect("faults lock")
            .insert(point, times);
        self.0.any.store(true, Ordering::SeqCst);
    }

    /// Whether the component at `point` must crash now.
    pub(crate) fn hit(&self, point: FaultPoint) -> bool {
        if !self.0.any.load(Ordering::Relaxed) {
            return false;
        }
        let mut armed = self.0.armed.lock().expect("faults lock");
        match armed.get_mut(&point) {
            Some(left) if *left > 0 => {
                *left -= 1;
                *self
                    .0
                    .fired
                    .lock()
                    .expect("faults lock")
                    .entry(point)
                    .or_default() += 1;
                tracing::warn!(?point, "fault point hit: crashing");
                true
            }
            _ => false,
        }
    }

    /// How many times `point` has crashed its component: a test waits for this before it
    /// stops the bus, or a crash still armed would strike the next start instead.
    ///
    /// # Panics
    /// If a previous holder of the lock panicked.
    #[must_use]
    pub fn fired(&self, point: FaultPoint) -> u32 {
        self.0
            .fired
            .lock()
            .expect("faults lock")
            .get(&point)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_point_fires_the_given_number_of_times() {
        let faults = Faults::default();
        assert!(!faults.hit(FaultPoint::RelayAfterPublish));
        faults.arm(FaultPoint::RelayAfterPublish, 2);
        assert!(!faults.hit(FaultPoint::ConsumerAfterCommit));
        assert!(faults.hit(FaultPoint::RelayAfterPublish));
        assert!(faults.hit(FaultPoint::RelayAfterPublish));
        assert!(!faults.hit(FaultPoint::RelayAfterPublish));
        assert_eq!(faults.fired(FaultPoint::RelayAfterPublish), 2);
        assert_eq!(faults.fired(FaultPoint::ConsumerAfterCommit), 0);
    }
}
