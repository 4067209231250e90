//! Who is asked first: the nearest courier to the merchant, then the one idle longest.

use time::OffsetDateTime;
use uuid::Uuid;

/// An online courier with no delivery, near the merchant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub courier_id: Uuid,
    /// From the courier to the merchant.
    pub distance_km: f64,
    pub idle_since: OffsetDateTime,
}

/// The candidates in the order they are asked: nearest first; at the same distance (to
/// the metre), the one who has waited longest; then by id, so that the order is total.
#[must_use]
pub fn rank(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    let metres = |c: &Candidate| (c.distance_km * 1000.0).round() as i64;
    candidates.sort_by(|a, b| {
        metres(a)
            .cmp(&metres(b))
            .then(a.idle_since.cmp(&b.idle_since))
            .then(a.courier_id.cmp(&b.courier_id))
    });
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn nearest_first_then_longest_idle() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let candidate = |n: u128, km: f64, idle_secs: i64| Candidate {
            courier_id: Uuid::from_u128(n),
            distance_km: km,
            idle_since: now - Duration::seconds(idle_secs),
        };
        let ranked = rank(vec![
            candidate(1, 2.0, 10),
            candidate(2, 0.5, 10),
            candidate(3, 0.5, 600),
            candidate(4, 0.5001, 900),
        ]);
        let order: Vec<u128> = ranked.iter().map(|c| c.courier_id.as_u128()).collect();
        assert_eq!(order, vec![4, 3, 2, 1]);
    }
}
