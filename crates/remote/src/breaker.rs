//! A circuit breaker per callee: after `failures` calls in a row found it down, calls are
//! refused at once for `cooldown`, so that a caller under load does not queue behind a dead
//! service; then one call is let through, and its outcome closes or reopens the breaker.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct Breaker {
    failures: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failed_in_a_row: u32,
    open_until: Option<Instant>,
    probing: bool,
}

impl Breaker {
    pub(crate) fn new(failures: u32, cooldown: Duration) -> Self {
        Breaker {
            failures: failures.max(1),
            cooldown,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a call may go: always while closed; while open, none until the cooldown is
    /// over, then one probe at a time.
    pub(crate) fn admit(&self) -> bool {
        let mut state = self.state();
        match state.open_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) if state.probing => false,
            Some(_) => {
                state.probing = true;
                true
            }
        }
    }

    pub(crate) fn succeeded(&self) {
        *self.state() = State::default();
    }

    pub(crate) fn failed(&self) {
        let mut state = self.state();
        state.failed_in_a_row = state.failed_in_a_row.saturating_add(1);
        if state.probing || state.failed_in_a_row >= self.failures {
            state.open_until = Some(Instant::now() + self.cooldown);
            state.probing = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_in_a_row_and_closes_after_a_good_probe() {
        let breaker = Breaker::new(3, Duration::ZERO);
        for _ in 0..2 {
            assert!(breaker.admit());
            breaker.failed();
        }
        assert!(breaker.admit(), "two failures keep it closed");
        breaker.succeeded();
        for _ in 0..3 {
            breaker.failed();
        }
        assert!(breaker.admit(), "the cooldown is over: one probe");
        assert!(!breaker.admit(), "one probe at a time");
        breaker.succeeded();
        assert!(breaker.admit() && breaker.admit(), "closed again");
    }

    #[test]
    fn refuses_while_cooling_down_and_a_failed_probe_reopens() {
        let breaker = Breaker::new(1, Duration::from_secs(3600));
        breaker.failed();
        assert!(!breaker.admit());
        let probing = Breaker::new(1, Duration::ZERO);
        probing.failed();
        assert!(probing.admit());
        probing.failed();
        assert!(
            probing.admit(),
            "reopened, and with no cooldown probed again"
        );
    }
}
