//! Delivery's section of the configuration (`[delivery]`).

use ordo_http::ratelimit::Quota;
use ordo_kernel::{Money, Secret};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a courier gets a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DispatchMode {
    /// Nearby couriers are offered it; the first to accept takes it.
    Offers,
    /// The best courier (nearest, then idle longest) is assigned without being asked.
    Auto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    pub mode: DispatchMode,
    /// H3 resolution of the courier index and of the areas offers go to (7: ~1.4 km
    /// cells, 8: ~0.5 km, 9: ~0.2 km).
    pub h3_resolution: u8,
    /// How long a courier has to accept an offer.
    pub offer_secs: u64,
    /// How many couriers are offered a delivery at once.
    pub offer_batch: usize,
    /// Couriers farther than this from the merchant are never asked.
    pub max_radius_km: f64,
    /// A courier who declined a delivery or let its offer expire is asked again for it
    /// after this, if nobody else in range took it.
    pub reoffer_after_secs: u64,
    /// A delivery nobody took within this is escalated to operators.
    pub unassigned_after_secs: u64,
    /// A reported position farther from the last than this speed allows is refused.
    pub max_speed_kmh: f64,
    /// The speed ETAs assume.
    pub courier_speed_kmh: f64,
    /// Position reports per courier: the rate, and the burst allowed above it.
    pub location_limit: Quota,
    /// Positions are kept in memory and written this often (and when a courier goes
    /// offline).
    pub persist_secs: u64,
    /// Couriers kept in Redis (scale-out) who have not reported or changed availability for
    /// this long are not offered deliveries until they report again: their app is gone.
    pub silent_after_secs: u64,
    /// How often offers are expired and waiting deliveries offered again.
    pub sweep_ms: u64,
    /// Shared with parcel carriers to sign their events; unset: carrier events are refused.
    pub carrier_webhook_secret: Option<Secret<String>>,
    /// What a courier earns per delivery: `pay_base` plus `pay_per_km` for each kilometre
    /// from the merchant to the customer, in minor units of `pay_currency`.
    pub pay_currency: String,
    pub pay_base: i64,
    pub pay_per_km: i64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            mode: DispatchMode::Offers,
            h3_resolution: 8,
            offer_secs: 30,
            offer_batch: 3,
            max_radius_km: 8.0,
            reoffer_after_secs: 60,
            unassigned_after_secs: 300,
            max_speed_kmh: 150.0,
            courier_speed_kmh: 25.0,
            location_limit: Quota::new(120, 5),
            persist_secs: 5,
            silent_after_secs: 900,
            sweep_ms: 1000,
            carrier_webhook_secret: None,
            pay_currency: "EUR".into(),
            pay_base: 300,
            pay_per_km: 80,
        }
    }
}

impl DeliveryConfig {
    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        if !(5..=10).contains(&self.h3_resolution) {
            return Err("delivery.h3_resolution: must be between 5 and 10".into());
        }
        if !(1..=600).contains(&self.offer_secs) {
            return Err("delivery.offer_secs: must be between 1 and 600".into());
        }
        if !(1..=50).contains(&self.offer_batch) {
            return Err("delivery.offer_batch: must be between 1 and 50".into());
        }
        if !(self.max_radius_km > 0.0 && self.max_radius_km <= 100.0) {
            return Err("delivery.max_radius_km: must be above 0 and at most 100".into());
        }
        if !(1..=86_400).contains(&self.reoffer_after_secs) {
            return Err("delivery.reoffer_after_secs: must be between 1 and 86400".into());
        }
        if !(1..=86_400).contains(&self.unassigned_after_secs) {
            return Err("delivery.unassigned_after_secs: must be between 1 and 86400".into());
        }
        for (key, speed) in [
            ("max_speed_kmh", self.max_speed_kmh),
            ("courier_speed_kmh", self.courier_speed_kmh),
        ] {
            if !(speed > 0.0 && speed <= 1000.0) {
                return Err(format!("delivery.{key}: must be above 0 and at most 1000"));
            }
        }
        self.location_limit
            .validate()
            .map_err(|e| format!("delivery.location_limit: {e}"))?;
        if !(1..=300).contains(&self.persist_secs) {
            return Err("delivery.persist_secs: must be between 1 and 300".into());
        }
        if !(60..=86_400).contains(&self.silent_after_secs) {
            return Err("delivery.silent_after_secs: must be between 60 and 86400".into());
        }
        if !(50..=60_000).contains(&self.sweep_ms) {
            return Err("delivery.sweep_ms: must be between 50 and 60000".into());
        }
        if self
            .carrier_webhook_secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() < 16)
        {
            return Err("delivery.carrier_webhook_secret: must be at least 16 characters".into());
        }
        if ordo_kernel::money::currency(&self.pay_currency).as_deref() != Ok(&self.pay_currency) {
            return Err("delivery.pay_currency: must be an ISO 4217 code such as EUR".into());
        }
        for (key, amount) in [("pay_base", self.pay_base), ("pay_per_km", self.pay_per_km)] {
            if !(0..=100_000).contains(&amount) {
                return Err(format!(
                    "delivery.{key}: must be between 0 and 100000 minor units"
                ));
            }
        }
        Ok(())
    }

    /// What a courier earns for a trip of `trip_km` from the merchant to the customer.
    #[must_use]
    pub fn payout(&self, trip_km: f64) -> Money {
        Money {
            amount: crate::domain::payout(self.pay_base, self.pay_per_km, trip_km),
            currency: self.pay_currency.clone(),
        }
    }

    #[must_use]
    pub fn silent_after(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.silent_after_secs).unwrap_or(i64::MAX))
    }

    #[must_use]
    pub fn resolution(&self) -> h3o::Resolution {
        h3o::Resolution::try_from(self.h3_resolution).unwrap_or(h3o::Resolution::Eight)
    }

    #[must_use]
    pub fn offer_ttl(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.offer_secs).unwrap_or(30))
    }

    #[must_use]
    pub fn reoffer_after(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.reoffer_after_secs).unwrap_or(60))
    }

    #[must_use]
    pub fn sweep_every(&self) -> Duration {
        Duration::from_millis(self.sweep_ms)
    }
}
