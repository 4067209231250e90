//! Time is UTC. Stores keep instants to the millisecond: SQLite as integer milliseconds since
//! the Unix epoch, PostgreSQL as `timestamptz` bound to the millisecond, so that both compare
//! and index them the same way.

use time::OffsetDateTime;

/// The current instant, UTC.
#[must_use]
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Milliseconds since the Unix epoch, as stored.
#[must_use]
pub fn to_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The instant a stored millisecond count stands for.
#[must_use]
pub fn from_millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `at` to the millisecond, as the stores keep instants: what a store reads back.
#[must_use]
pub fn stored(at: OffsetDateTime) -> OffsetDateTime {
    from_millis(to_millis(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_drops_only_sub_millisecond_precision() {
        let at = time::macros::datetime!(2026-11-22 10:15:30.123_456 UTC);
        let back = stored(at);
        assert_eq!(back, time::macros::datetime!(2026-11-22 10:15:30.123 UTC));
    }
}
