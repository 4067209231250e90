//! A retry budget per callee: retries may add at most a fifth to the calls made, beyond a
//! small reserve, so that a struggling service is not buried under its callers' retries.

use std::sync::Mutex;

/// What a retry costs, in the budget's units: a fifth of it is earned by each call.
const RETRY: u32 = 5;
/// Retries a caller may make before its calls earn more: ten.
const RESERVE: u32 = 10 * RETRY;

#[derive(Debug)]
pub(crate) struct RetryBudget {
    units: Mutex<u32>,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            units: Mutex::new(RESERVE),
        }
    }
}

impl RetryBudget {
    fn units(&self) -> std::sync::MutexGuard<'_, u32> {
        self.units
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn earn(&self) {
        let mut units = self.units();
        *units = (*units + 1).min(RESERVE);
    }

    /// Whether one more retry is within the budget; takes it when it is.
    pub(crate) fn take_retry(&self) -> bool {
        let mut units = self.units();
        if *units >= RETRY {
            *units -= RETRY;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_a_fifth_of_calls_beyond_the_reserve() {
        let budget = RetryBudget::default();
        let taken = (0..20).filter(|_| budget.take_retry()).count();
        assert_eq!(taken, 10, "the reserve");
        for _ in 0..10 {
            budget.earn();
        }
        assert!(budget.take_retry() && budget.take_retry());
        assert!(!budget.take_retry(), "ten calls earn two retries");
    }
}
