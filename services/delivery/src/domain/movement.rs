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

/// How far a reported position may stray from where the courier is (GPS jitter), whatever
/// the time between reports.
const JITTER_KM: f64 = 0.1;

/// Whether a report of `to` is possible at `max_speed_kmh` or below; the position to
/// measure the next report from.
///
/// Reports are measured from an anchor, not from the last report: the jitter allowance is
/// given once, around the anchor, so a courier cannot gain it again with every report
/// (99 m every half second would be 700 km/h). The anchor moves on to a report that the
/// speed bound alone reaches from it, so anchors never outrun the bound and every report
/// stays within the bound plus one allowance of the first.
///
/// # Errors
/// The move is faster than a vehicle can travel.
pub fn plausible(anchor: Option<Fix>, to: Fix, max_speed_kmh: f64) -> Result<Fix, &'static str> {
    let Some(anchor) = anchor else {
        return Ok(to);
    };
    let km = distance_km((anchor.lat, anchor.lon), (to.lat, to.lon));
    let hours = (to.at - anchor.at).as_seconds_f64() / 3600.0;
    // Clocks and networks reorder reports a little: count at least a second.
    let reachable = max_speed_kmh * hours.max(1.0 / 3600.0);
    if km > reachable + JITTER_KM {
        Err("is farther from the last position than a vehicle can travel since")
    } else if km <= max_speed_kmh * hours {
        Ok(to)
    } else {
        Ok(anchor)
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

    fn day() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn a_first_position_and_jitter_are_always_plausible() {
        let now = day();
        let first = fix(52.5, 13.4, now);
        assert_eq!(plausible(None, first, 150.0), Ok(first));
        // 55 m at once: jitter, measured from the same anchor.
        assert_eq!(
            plausible(Some(first), fix(52.5005, 13.4, now), 150.0),
            Ok(first)
        );
        // A courier standing still, its position wandering 55 m either way, for an hour.
        let mut anchor = first;
        for second in 1..3600 {
            let north = if second % 2 == 0 { 0.0005 } else { -0.0005 };
            let at = now + Duration::seconds(second);
            anchor = plausible(Some(anchor), fix(52.5 + north, 13.4, at), 150.0).unwrap();
        }
    }

    #[test]
    fn a_move_faster_than_a_vehicle_is_refused() {
        let now = day();
        let last = fix(52.5, 13.4, now - Duration::seconds(60));
        // About 1.1 km in a minute: 67 km/h.
        let moved = fix(52.51, 13.4, now);
        assert_eq!(plausible(Some(last), moved, 150.0), Ok(moved));
        // About 11 km in a minute: 667 km/h.
        assert!(plausible(Some(last), fix(52.6, 13.4, now), 150.0).is_err());
        // A report that arrives before the last one counts as a second later.
        assert!(plausible(Some(fix(52.5, 13.4, now)), moved, 150.0).is_err());
    }

    #[test]
    fn jitter_does_not_add_up_to_speed() {
        // 99 m every 0.43 s (829 km/h), each step within the jitter allowance.
        let now = day();
        let mut anchor = fix(52.5, 13.4, now);
        let refused = (1..=28_i32).find(|step| {
            let at = now + Duration::milliseconds(430 * i64::from(*step));
            let to = fix(52.5 + 0.00089 * f64::from(*step), 13.4, at);
            match plausible(Some(anchor), to, 150.0) {
                Ok(next) => {
                    anchor = next;
                    false
                }
                Err(_) => true,
            }
        });
        assert_eq!(refused, Some(2));
    }

    #[test]
    fn a_courier_at_the_bound_with_jitter_keeps_going() {
        // 149 km/h for an hour, reported every second, each report up to 50 m off.
        let now = day();
        let km_per_degree = 111.2;
        let mut anchor = fix(50.0, 13.4, now);
        for second in 1..3600 {
            let travelled = 149.0 * f64::from(second) / 3600.0;
            let off = if second % 3 == 0 { 0.05 } else { -0.05 };
            let to = fix(
                50.0 + (travelled + off) / km_per_degree,
                13.4,
                now + Duration::seconds(i64::from(second)),
            );
            anchor = plausible(Some(anchor), to, 150.0).unwrap();
        }
    }

    #[test]
    fn etas_round_up() {
        assert_eq!(eta_secs(1.0, 30.0), 120);
        assert_eq!(eta_secs(0.001, 30.0), 1);
        assert_eq!(eta_secs(0.0, 30.0), 0);
    }
}
