//! What a courier's reported move may be, and how long a trip takes.

use ordo_kernel::geo::distance_km;
use time::OffsetDateTime;

/// A reported position and when it was reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    pub at: OffsetDateTime,
}

/// Moves shorter than this are GPS jitter whatever the time between them.
const JITTER_KM: f64 = 0.1;

/// Whether moving from `last` to `to` at `at` is possible at `max_speed_kmh` or below.
///
/// # Errors
/// The move is faster than a vehicle can travel.
pub fn plausible(
    last: Option<Fix>,
    to: (f64, f64),
    at: OffsetDateTime,
    max_speed_kmh: f64,
) -> Result<(), &'static str> {
    let Some(last) = last else {
        return Ok(());
    };
    let km = distance_km((last.lat, last.lon), to);
    if km <= JITTER_KM {
        return Ok(());
    }
    // Clocks and networks reorder reports a little: count at least a second.
    let hours = (at - last.at).as_seconds_f64().max(1.0) / 3600.0;
    if km / hours > max_speed_kmh {
        Err("is farther from the last position than a vehicle can travel since")
    } else {
        Ok(())
    }
}

/// Seconds to cover `km` at `speed_kmh`.
#[must_use]
pub fn eta_secs(km: f64, speed_kmh: f64) -> i64 {
    if speed_kmh <= 0.0 {
        return 0;
    }
    // Rounded up to whole seconds: an ETA is a promise.
    (km / speed_kmh * 3600.0).ceil() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn fix(lat: f64, lon: f64, at: OffsetDateTime) -> Fix {
        Fix { lat, lon, at }
    }

    #[test]
    fn a_first_position_and_jitter_are_always_plausible() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        assert!(plausible(None, (52.5, 13.4), now, 150.0).is_ok());
        let last = fix(52.5, 13.4, now);
        assert!(plausible(Some(last), (52.5005, 13.4), now, 150.0).is_ok());
    }

    #[test]
    fn a_move_faster_than_a_vehicle_is_refused() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let last = fix(52.5, 13.4, now - Duration::seconds(60));
        // About 1.1 km in a minute: 67 km/h.
        assert!(plausible(Some(last), (52.51, 13.4), now, 150.0).is_ok());
        // About 11 km in a minute: 667 km/h.
        assert!(plausible(Some(last), (52.6, 13.4), now, 150.0).is_err());
        // A report that arrives before the last one counts as a second later.
        assert!(plausible(Some(fix(52.5, 13.4, now)), (52.51, 13.4), now, 150.0).is_err());
    }

    #[test]
    fn etas_round_up() {
        assert_eq!(eta_secs(1.0, 30.0), 120);
        assert_eq!(eta_secs(0.001, 30.0), 1);
        assert_eq!(eta_secs(0.0, 30.0), 0);
    }
}
