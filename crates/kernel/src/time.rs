//! Time is UTC. Stores keep instants as integer milliseconds since the Unix epoch, which both
//! SQLite and PostgreSQL compare and index the same way.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_drops_only_sub_millisecond_precision() {
        let at = time::macros::datetime!(2026-11-22 10:15:30.123_456 UTC);
        let back = from_millis(to_millis(at));
        assert_eq!(back, time::macros::datetime!(2026-11-22 10:15:30.123 UTC));
    }
}
