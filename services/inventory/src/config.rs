//! Inventory's section of the configuration (`[inventory]`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// How long stock stays held for an unpaid order.
    pub hold_secs: u64,
    /// How often expired holds are given back.
    pub sweep_secs: u64,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig {
            hold_secs: 15 * 60,
            sweep_secs: 30,
        }
    }
}

impl InventoryConfig {
    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        if !(60..=86_400).contains(&self.hold_secs) {
            return Err("inventory.hold_secs: must be between 60 and 86400".into());
        }
        if !(1..=3600).contains(&self.sweep_secs) {
            return Err("inventory.sweep_secs: must be between 1 and 3600".into());
        }
        Ok(())
    }

    #[must_use]
    pub fn hold(&self) -> Duration {
        Duration::from_secs(self.hold_secs)
    }
}
