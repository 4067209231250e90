//! A retry budget per callee: retries may add at most a fifth to the calls made, beyond a
//! small reserve, so that a struggling service is not buried under its callers' retries.

use std::sync::Mutex;

/// Retries a caller may make before its calls earn more.
const RESERVE: f64 = 10.0;
/// What each call earns towards a retry.
const PER_CALL: f64 = 0.2;

#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: Mutex<f64>,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            tokens: Mutex::new(RESERVE),
        }
    }
}

impl RetryBudget {
    fn tokens(&self) -> std::sync::MutexGuard<'_, f64> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn earn(&self) {
        let mut tokens = self.tokens();
        *tokens = (*tokens + PER_CALL).min(RESERVE);
    }

    /// Whether one more retry is within the budget; takes it when it is.
    pub(crate) fn take_retry(&self) -> bool {
        let mut tokens = self.tokens();
        if *tokens >= 1.0 {
            *tokens -= 1.0;
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
