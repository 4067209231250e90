//! Who is asked first: the nearest courier to the merchant, then the one idle longest; and
//! who is asked again: a courier who let an offer pass, once others had their turn and
//! `reoffer_after` has gone by.

use super::OfferStatus;
use std::collections::HashSet;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An offer the delivery made before, as dispatch weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastOffer {
    pub courier_id: Uuid,
    pub status: OfferStatus,
    pub created_at: OffsetDateTime,
    /// When it was answered, expired or withdrawn; `None` while open.
    pub ended_at: Option<OffsetDateTime>,
}

/// The couriers a delivery's earlier offers rule out now, and those it may ask again only
/// after everyone else.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Asked {
    pub not_now: HashSet<Uuid>,
    pub again: HashSet<Uuid>,
}

impl Asked {
    /// Every courier asked before, whether now or later.
    #[must_use]
    pub fn all(&self) -> HashSet<Uuid> {
        self.not_now.union(&self.again).copied().collect()
    }
}

/// Weighs the delivery's earlier offers at `now`: a courier holding an open offer is never
/// asked twice at once; one who declined or let an offer expire rests for `reoffer_after`
/// from then; one whose offer was withdrawn (they took another delivery, or the delivery
/// was given elsewhere) did not refuse and may be asked again at once. Offers made before
/// `since` (an operator asked again) no longer count.
#[must_use]
pub fn asked(
    past: &[PastOffer],
    now: OffsetDateTime,
    reoffer_after: Duration,
    since: Option<OffsetDateTime>,
) -> Asked {
    let mut asked = Asked::default();
    for offer in past
        .iter()
        .filter(|o| since.is_none_or(|s| o.created_at >= s))
    {
        let resting = match (offer.status, offer.ended_at) {
            (OfferStatus::Open, _) | (_, None) => true,
            (OfferStatus::Declined | OfferStatus::Expired, Some(ended)) => {
                now < ended + reoffer_after
            }
            (OfferStatus::Withdrawn | OfferStatus::Accepted, Some(_)) => false,
        };
        if resting {
            asked.not_now.insert(offer.courier_id);
        } else {
            asked.again.insert(offer.courier_id);
        }
    }
    asked.again.retain(|c| !asked.not_now.contains(c));
    asked
}

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

    #[test]
    fn a_courier_who_let_it_pass_rests_then_may_be_asked_again() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let rest = Duration::seconds(60);
        let past = |n: u128, status: OfferStatus, ago: Option<i64>| PastOffer {
            courier_id: Uuid::from_u128(n),
            status,
            created_at: now - Duration::seconds(600),
            ended_at: ago.map(|secs| now - Duration::seconds(secs)),
        };
        let offers = [
            past(1, OfferStatus::Open, None),
            past(2, OfferStatus::Declined, Some(10)),
            past(3, OfferStatus::Expired, Some(60)),
            past(4, OfferStatus::Withdrawn, Some(1)),
            // Asked twice: the older refusal has rested, the newer not yet.
            past(5, OfferStatus::Expired, Some(300)),
            past(5, OfferStatus::Declined, Some(30)),
        ];
        let asked = asked(&offers, now, rest, None);
        let ids = |set: &HashSet<Uuid>| {
            let mut ids: Vec<u128> = set.iter().map(|c| c.as_u128()).collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(ids(&asked.not_now), vec![1, 2, 5]);
        assert_eq!(ids(&asked.again), vec![3, 4]);
        assert_eq!(ids(&asked.all()), vec![1, 2, 3, 4, 5]);
        // An operator asked again a moment ago: the earlier offers no longer count.
        let fresh = super::asked(&offers, now, rest, Some(now - Duration::seconds(1)));
        assert_eq!(fresh, Asked::default());
    }
}
