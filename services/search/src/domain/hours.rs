//! Opening hours: whether a merchant is open at an instant.

use ordo_contracts::catalog::OpeningHours;
use std::ops::Range;
use time::{OffsetDateTime, Weekday};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(day: &str) -> Option<u16> {
    DAYS.iter()
        .position(|d| *d == day)
        .and_then(|i| u16::try_from(i).ok())
}

fn minutes(clock: &str) -> Option<u16> {
    let (hours, minutes) = clock.split_once(':')?;
    Some(hours.parse::<u16>().ok()? * 60 + minutes.parse::<u16>().ok()?)
}

/// Minutes in a week; a minute of the week counts from Monday 00:00.
pub const WEEK: u16 = 7 * 24 * 60;
const DAY: u16 = 24 * 60;

/// The minute of the week `at` falls in (read as the merchant's local time).
#[must_use]
pub fn minute_of_week(at: OffsetDateTime) -> u16 {
    let day = match at.weekday() {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
        Weekday::Saturday => 5,
        Weekday::Sunday => 6,
    };
    day * DAY + u16::from(at.hour()) * 60 + u16::from(at.minute())
}

/// The minutes of the week a merchant with these hours is open, as ranges. No hours at all
/// means always open; an opening whose `close` is before its `open` runs into the next day
/// (Sunday's into Monday's).
#[must_use]
pub fn weekly(hours: &[OpeningHours]) -> Vec<Range<u16>> {
    if hours.is_empty() {
        return std::iter::once(0..WEEK).collect();
    }
    let mut ranges = Vec::with_capacity(hours.len() + 1);
    for opening in hours {
        let (Some(day), Some(open), Some(close)) = (
            day_index(&opening.day),
            minutes(&opening.open),
            minutes(&opening.close),
        ) else {
            continue;
        };
        let start = day * DAY + open;
        let end = day * DAY + close + if close < open { DAY } else { 0 };
        if end > WEEK {
            ranges.push(start..WEEK);
            ranges.push(0..end - WEEK);
        } else {
            ranges.push(start..end);
        }
    }
    ranges
}

/// Whether a merchant with these hours is open at `at`.
#[must_use]
pub fn open_at(hours: &[OpeningHours], at: OffsetDateTime) -> bool {
    let minute = minute_of_week(at);
    weekly(hours).iter().any(|range| range.contains(&minute))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn opening(day: &str, open: &str, close: &str) -> OpeningHours {
        OpeningHours {
            day: day.into(),
            open: open.into(),
            close: close.into(),
        }
    }

    #[test]
    fn open_within_the_day_s_hours_only() {
        let hours = [opening("mon", "11:00", "22:00")];
        // 2026-11-30 is a Monday.
        assert!(open_at(&hours, datetime!(2026-11-30 11:00 UTC)));
        assert!(open_at(&hours, datetime!(2026-11-30 21:59 UTC)));
        assert!(!open_at(&hours, datetime!(2026-11-30 22:00 UTC)));
        assert!(!open_at(&hours, datetime!(2026-11-30 10:59 UTC)));
        assert!(!open_at(&hours, datetime!(2026-12-01 12:00 UTC)));
    }

    #[test]
    fn an_opening_past_midnight_runs_into_the_next_day() {
        let hours = [opening("sat", "18:00", "02:00")];
        assert!(open_at(&hours, datetime!(2026-12-05 23:30 UTC)));
        assert!(open_at(&hours, datetime!(2026-12-06 01:59 UTC)));
        assert!(!open_at(&hours, datetime!(2026-12-06 02:00 UTC)));
        assert!(!open_at(&hours, datetime!(2026-12-05 01:00 UTC)));
    }

    #[test]
    fn sunday_night_runs_into_monday() {
        let hours = [opening("sun", "20:00", "01:00")];
        assert!(open_at(&hours, datetime!(2026-11-30 00:30 UTC)));
        assert!(open_at(&hours, datetime!(2026-12-06 23:00 UTC)));
        assert!(!open_at(&hours, datetime!(2026-11-30 01:00 UTC)));
    }

    #[test]
    fn no_hours_means_always_open() {
        assert!(open_at(&[], datetime!(2026-11-30 03:00 UTC)));
    }
}
