//! Reports: what happened to orders, counted per merchant and hour as the events come, and
//! read back in buckets of an hour or a day. Each fact is what one event says, kept in the
//! journal so that the counters can be made again from it.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// What one event told the reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// A customer's empty cart got its first product, of this merchant.
    CartStarted {
        merchant_id: Uuid,
        currency: String,
    },
    Placed {
        order_id: Uuid,
        merchant_id: Uuid,
        currency: String,
        total: i64,
        from_cart: bool,
    },
    Accepted {
        order_id: Uuid,
    },
    Ready {
        order_id: Uuid,
    },
    /// A courier took a delivery order from the merchant.
    PickedUp {
        order_id: Uuid,
    },
    Completed {
        order_id: Uuid,
    },
    Cancelled {
        order_id: Uuid,
        reason: String,
    },
    Rejected {
        order_id: Uuid,
        reason: String,
    },
    Captured {
        order_id: Uuid,
        amount: i64,
    },
    Refunded {
        order_id: Uuid,
        amount: i64,
    },
}

impl Fact {
    /// The order the fact is about; none for a cart's.
    #[must_use]
    pub fn order_id(&self) -> Option<Uuid> {
        match self {
            Fact::CartStarted { .. } => None,
            Fact::Placed { order_id, .. }
            | Fact::Accepted { order_id }
            | Fact::Ready { order_id }
            | Fact::PickedUp { order_id }
            | Fact::Completed { order_id }
            | Fact::Cancelled { order_id, .. }
            | Fact::Rejected { order_id, .. }
            | Fact::Captured { order_id, .. }
            | Fact::Refunded { order_id, .. } => Some(*order_id),
        }
    }

    /// What the fact adds to its hour's counters.
    #[must_use]
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        match self {
            Fact::CartStarted { .. } => counts.carts = 1,
            Fact::Placed {
                total, from_cart, ..
            } => {
                counts.orders = 1;
                counts.from_cart = i64::from(*from_cart);
                counts.basket_total = *total;
            }
            Fact::Completed { .. } => counts.completed = 1,
            Fact::Cancelled { .. } => counts.cancelled = 1,
            Fact::Rejected { .. } => counts.rejected = 1,
            Fact::Captured { amount, .. } => counts.captured = *amount,
            Fact::Refunded { amount, .. } => counts.refunded = *amount,
            Fact::Accepted { .. } | Fact::Ready { .. } | Fact::PickedUp { .. } => {}
        }
        counts
    }
}

/// Counters of one merchant, hour and currency, or the sums of several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Carts that got their first product.
    pub carts: i64,
    pub orders: i64,
    pub from_cart: i64,
    pub basket_total: i64,
    pub captured: i64,
    pub refunded: i64,
    pub completed: i64,
    /// The totals of the completed orders.
    pub completed_total: i64,
    pub cancelled: i64,
    pub rejected: i64,
}

impl Counts {
    #[must_use]
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// A step whose duration the reports measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// Placed to accepted by the merchant.
    Acceptance,
    /// Accepted to ready.
    Preparation,
    /// Picked up by the courier to completed.
    Delivery,
}

impl Timing {
    pub const ALL: [Timing; 3] = [Timing::Acceptance, Timing::Preparation, Timing::Delivery];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::Acceptance => "acceptance",
            Timing::Preparation => "preparation",
            Timing::Delivery => "delivery",
        }
    }
}

impl std::str::FromStr for Timing {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Timing::ALL
            .into_iter()
            .find(|timing| timing.as_str() == text)
            .ok_or_else(|| format!("unknown timing {text}"))
    }
}

/// Bins per doubling of a duration: each bin is about 19% wide, so a percentile read
/// from the bins is within that of the true one.
const BINS_PER_DOUBLING: f64 = 4.0;

/// The bin of a duration of `seconds` (negative ones count as 0).
#[must_use]
pub fn bin_of(seconds: f64) -> i64 {
    ((1.0 + seconds.max(0.0)).log2() * BINS_PER_DOUBLING).floor() as i64
}

/// The longest duration in `bin`, in seconds.
#[must_use]
pub fn bin_top(bin: i64) -> f64 {
    let exponent = (bin + 1) as f64 / BINS_PER_DOUBLING;
    exponent.exp2() - 1.0
}

/// The `q` quantile (0 to 1) of durations counted in bins `(bin, count)`, as the top of
/// the bin it falls in; none without durations.
#[must_use]
pub fn quantile(bins: &[(i64, i64)], q: f64) -> Option<f64> {
    let mut sorted = bins.to_vec();
    sorted.sort_unstable();
    let total: i64 = sorted.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (bin, count) in sorted {
        seen += count;
        if seen >= rank {
            return Some(bin_top(bin));
        }
    }
    None
}

/// A cause as counted: trimmed, lower case, at most 64 characters, `unspecified` when
/// empty, so that free text cannot grow the tables without bound.
#[must_use]
pub fn cause_of(reason: &str) -> String {
    let cause: String = reason.trim().to_lowercase().chars().take(64).collect();
    if cause.is_empty() {
        "unspecified".into()
    } else {
        cause
    }
}

/// One bucket of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start: OffsetDateTime,
    pub currency: String,
    pub counts: Counts,
}

impl Bucket {
    /// Captured minus refunded.
    #[must_use]
    pub fn revenue(&self) -> i64 {
        self.counts.captured - self.counts.refunded
    }

    /// Orders placed from a cart per cart started; none without carts.
    #[must_use]
    pub fn conversion(&self) -> Option<f64> {
        (self.counts.carts > 0).then(|| self.counts.from_cart as f64 / self.counts.carts as f64)
    }

    /// The mean total of the orders completed, rounded down; none without any (a basket
    /// cancelled or rejected was never sold).
    #[must_use]
    pub fn average_basket(&self) -> Option<i64> {
        (self.counts.completed > 0).then(|| self.counts.completed_total / self.counts.completed)
    }
}

/// A report as read: counters per bucket and currency; durations per bucket, step and bin
/// `(start, step, bin, count)`; endings per bucket, outcome and cause `(start, outcome,
/// cause, count)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub buckets: Vec<Bucket>,
    pub timings: Vec<(OffsetDateTime, String, i64, i64)>,
    pub causes: Vec<(OffsetDateTime, String, String, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSize {
    Hour,
    Day,
}

impl BucketSize {
    #[must_use]
    pub fn length(self) -> Duration {
        match self {
            BucketSize::Hour => Duration::HOUR,
            BucketSize::Day => Duration::DAY,
        }
    }

    /// The most a report may span in buckets of this size.
    #[must_use]
    pub fn longest_span(self) -> Duration {
        match self {
            BucketSize::Hour => Duration::days(31),
            BucketSize::Day => Duration::days(3 * 366),
        }
    }
}

/// The period a report covers, `from` inclusive and `to` exclusive, in UTC buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub bucket: BucketSize,
}

impl Period {
    /// The period asked for: `from` and `to` as RFC 3339 instants or `YYYY-MM-DD` (midnight
    /// UTC), `bucket` `hour` or `day` (the default). Without `to`, up to the end of the
    /// current hour; without `from`, the 7 days (or 24 hours) before `to`.
    ///
    /// # Errors
    /// The fields that are wrong: unreadable, `from` not before `to`, or a span longer than
    /// the bucket allows.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        bucket: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Period, ordo_kernel::Violations> {
        let mut v = ordo_kernel::Violations::new();
        let bucket = match bucket {
            None | Some("day") => BucketSize::Day,
            Some("hour") => BucketSize::Hour,
            Some(_) => {
                v.add("bucket", "must be hour or day");
                BucketSize::Day
            }
        };
        let to = match to {
            None => Some(hour_of(now) + Duration::HOUR),
            Some(text) => v.check("to", instant(text)),
        };
        let default_span = match bucket {
            BucketSize::Hour => Duration::DAY,
            BucketSize::Day => Duration::days(7),
        };
        let from = match from {
            None => to.map(|to| to - default_span),
            Some(text) => v.check("from", instant(text)),
        };
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                v.add("from", "must be before to");
            } else if to - from > bucket.longest_span() {
                v.add(
                    "to",
                    format!(
                        "a report in buckets of an {} spans at most {} days",
                        if bucket == BucketSize::Hour {
                            "hour"
                        } else {
                            "day"
                        },
                        bucket.longest_span().whole_days()
                    ),
                );
            }
        }
        v.into_result(|| Period {
            from: from.unwrap_or(now),
            to: to.unwrap_or(now),
            bucket,
        })
    }
}

/// An RFC 3339 instant, or a `YYYY-MM-DD` date meaning its midnight in UTC.
fn instant(text: &str) -> Result<OffsetDateTime, &'static str> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &format) {
        return Ok(date.midnight().assume_utc());
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| "must be an RFC 3339 instant or a YYYY-MM-DD date")
}

/// The start of the hour `at` is in.
#[must_use]
pub fn hour_of(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revenue_is_captured_minus_refunded() {
        let bucket = Bucket {
            start: OffsetDateTime::UNIX_EPOCH,
            currency: "EUR".into(),
            counts: Counts {
                orders: 4,
                basket_total: 1300,
                completed: 3,
                completed_total: 1000,
                captured: 900,
                refunded: 250,
                ..Counts::default()
            },
        };
        assert_eq!(bucket.revenue(), 650);
        assert_eq!(bucket.average_basket(), Some(333), "completed orders only");
        let empty = Bucket {
            counts: Counts::default(),
            ..bucket
        };
        assert_eq!(empty.average_basket(), None);
        assert_eq!(empty.conversion(), None);
        let carts = Bucket {
            counts: Counts {
                carts: 4,
                from_cart: 3,
                ..Counts::default()
            },
            ..empty
        };
        assert_eq!(carts.conversion(), Some(0.75));
    }

    #[test]
    fn facts_count_where_they_belong() {
        let order_id = Uuid::nil();
        let placed = Fact::Placed {
            order_id,
            merchant_id: Uuid::nil(),
            currency: "EUR".into(),
            total: 1900,
            from_cart: true,
        };
        assert_eq!(placed.counts().orders, 1);
        assert_eq!(placed.counts().from_cart, 1);
        assert_eq!(placed.counts().basket_total, 1900);
        assert!(Fact::Accepted { order_id }.counts().is_zero());
        let rejected = Fact::Rejected {
            order_id,
            reason: "sold out".into(),
        };
        assert_eq!(rejected.counts().rejected, 1);
        assert_eq!(
            Fact::Refunded {
                order_id,
                amount: 5
            }
            .counts()
            .refunded,
            5
        );
        let text = serde_json::to_string(&placed).unwrap();
        assert_eq!(serde_json::from_str::<Fact>(&text).unwrap(), placed);
    }

    #[test]
    fn periods_are_read_and_bounded() {
        let now = time::macros::datetime!(2026-11-30 14:36 UTC);
        let week = Period::parse(None, None, None, now).unwrap();
        assert_eq!(week.to, time::macros::datetime!(2026-11-30 15:00 UTC));
        assert_eq!(week.from, week.to - Duration::days(7));
        assert_eq!(week.bucket, BucketSize::Day);
        let day = Period::parse(
            Some("2026-11-01"),
            Some("2026-11-02T00:00:00Z"),
            Some("hour"),
            now,
        )
        .unwrap();
        assert_eq!(day.from, time::macros::datetime!(2026-11-01 0:00 UTC));
        assert_eq!(day.bucket, BucketSize::Hour);
        for (from, to, bucket) in [
            (Some("yesterday"), None, None),
            (Some("2026-11-02"), Some("2026-11-01"), None),
            (Some("2026-01-01"), Some("2026-11-01"), Some("hour")),
            (None, None, Some("minute")),
        ] {
            assert!(
                Period::parse(from, to, bucket, now).is_err(),
                "{from:?} {to:?} {bucket:?}"
            );
        }
    }

    #[test]
    fn durations_are_binned_within_a_fifth() {
        for seconds in [0.0, 1.0, 29.0, 30.0, 600.0, 3600.0] {
            let top = bin_top(bin_of(seconds));
            assert!(top >= seconds, "{seconds} s is under its bin's top {top}");
            assert!(top <= seconds * 1.2 + 1.0, "{seconds} s: top {top} too far");
        }
        let bins = [(bin_of(10.0), 5), (bin_of(100.0), 4), (bin_of(1000.0), 1)];
        assert_eq!(quantile(&bins, 0.5), Some(bin_top(bin_of(10.0))));
        assert_eq!(quantile(&bins, 0.9), Some(bin_top(bin_of(100.0))));
        assert_eq!(quantile(&bins, 1.0), Some(bin_top(bin_of(1000.0))));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn causes_are_bounded() {
        assert_eq!(cause_of("  Sold OUT "), "sold out");
        assert_eq!(cause_of(""), "unspecified");
        assert_eq!(cause_of(&"x".repeat(500)).len(), 64);
    }

    #[test]
    fn hours_start_on_the_hour() {
        let at = time::macros::datetime!(2026-11-30 14:36:06.5 UTC);
        assert_eq!(hour_of(at), time::macros::datetime!(2026-11-30 14:00 UTC));
    }
}
