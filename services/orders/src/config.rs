//! The orders service's section of the configuration (`[orders]`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersConfig {
    /// A paid order no merchant staff accepts within this is rejected: its authorisation
    /// voided, its stock released, its customer told.
    pub accept_timeout_secs: u64,
    /// A declined order keeps its stock held this long for its customer to try another
    /// card; then it is cancelled and the stock released.
    pub payment_retry_secs: u64,
    /// How often the orders waiting too long are looked for.
    pub sweep_secs: u64,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            accept_timeout_secs: 600,
            payment_retry_secs: 600,
            sweep_secs: 10,
        }
    }
}

impl OrdersConfig {
    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=86_400).contains(&self.accept_timeout_secs) {
            return Err("orders.accept_timeout_secs: must be between 1 and 86400".into());
        }
        if !(60..=86_400).contains(&self.payment_retry_secs) {
            return Err("orders.payment_retry_secs: must be between 60 and 86400".into());
        }
        if !(1..=3600).contains(&self.sweep_secs) {
            return Err("orders.sweep_secs: must be between 1 and 3600".into());
        }
        Ok(())
    }

    #[must_use]
    pub fn accept_timeout(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.accept_timeout_secs).unwrap_or(i64::MAX))
    }

    #[must_use]
    pub fn payment_retry(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.payment_retry_secs).unwrap_or(i64::MAX))
    }

    #[must_use]
    pub fn sweep_every(&self) -> Duration {
        Duration::from_secs(self.sweep_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_window_is_checked_and_named() {
        assert_eq!(OrdersConfig::default().validate(), Ok(()));
        assert_eq!(
            OrdersConfig::default().payment_retry(),
            time::Duration::minutes(10)
        );
        for secs in [0, 59, 86_401] {
            let config = OrdersConfig {
                payment_retry_secs: secs,
                ..OrdersConfig::default()
            };
            let refused = config.validate().unwrap_err();
            assert!(
                refused.starts_with("orders.payment_retry_secs:"),
                "{refused}"
            );
        }
    }
}
