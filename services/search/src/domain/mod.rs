//! Search's rules: what a query may ask, when a merchant is open, which price band a price
//! falls in, and where a text matches the words asked for.

mod hours;
mod query;
mod text;

pub use hours::{minute_of_week, open_at, weekly};
pub use query::{MAX_OFFSET, Query, QueryParams, Sort, Suggestion, encode_cursor};
pub use text::{fuzziness, highlight, normalising};

/// A band of prices a facet counts, in minor units: `min` inclusive, `max` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBand {
    pub label: &'static str,
    pub min: i64,
    pub max: Option<i64>,
}

/// The facet's bands; a price falls in exactly one.
pub const PRICE_BANDS: [PriceBand; 4] = [
    PriceBand {
        label: "under 10",
        min: 0,
        max: Some(999),
    },
    PriceBand {
        label: "10 to 20",
        min: 1_000,
        max: Some(1_999),
    },
    PriceBand {
        label: "20 to 50",
        min: 2_000,
        max: Some(4_999),
    },
    PriceBand {
        label: "50 and more",
        min: 5_000,
        max: None,
    },
];

/// The index of the band `amount` falls in.
#[must_use]
pub fn price_band(amount: i64) -> usize {
    PRICE_BANDS
        .iter()
        .position(|band| band.max.is_none_or(|max| amount <= max))
        .unwrap_or(PRICE_BANDS.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_price_falls_in_one_band() {
        assert_eq!(price_band(0), 0);
        assert_eq!(price_band(999), 0);
        assert_eq!(price_band(1_000), 1);
        assert_eq!(price_band(4_999), 2);
        assert_eq!(price_band(5_000), 3);
        assert_eq!(price_band(1_000_000_000), 3);
    }
}
