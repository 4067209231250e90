//! The cart's section of the configuration (`[cart]`).

use serde::{Deserialize, Serialize};

/// Where carts are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CartStore {
    /// In the cart's database, with the events they start.
    Sql,
    /// In the platform's Redis (`redis_url`), each cart forgotten `ttl_secs` after it last
    /// changed: the hot, disposable state of many processes.
    Redis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CartConfig {
    pub store: CartStore,
    /// In Redis: how long a cart nobody changes is kept.
    pub ttl_secs: u64,
}

impl Default for CartConfig {
    fn default() -> Self {
        CartConfig {
            store: CartStore::Sql,
            ttl_secs: 30 * 24 * 3600,
        }
    }
}

impl CartConfig {
    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        if !(60..=365 * 24 * 3600).contains(&self.ttl_secs) {
            return Err("cart.ttl_secs: must be between 60 and 31536000".into());
        }
        Ok(())
    }
}
