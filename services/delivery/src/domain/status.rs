//! The delivery status (DESIGN.md §4: shown inside the order, not an order status) and its
//! legal transitions, as one table; and an offer's.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for a courier: none near enough, or the last offers lapsed.
    Searching,
    /// Open offers wait for an answer.
    Offered,
    Assigned,
    PickedUp,
    Delivered,
    /// The order ended (cancelled or rejected) before it was delivered.
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        DeliveryStatus::Searching,
        DeliveryStatus::Offered,
        DeliveryStatus::Assigned,
        DeliveryStatus::PickedUp,
        DeliveryStatus::Delivered,
        DeliveryStatus::Cancelled,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Searching => "searching",
            DeliveryStatus::Offered => "offered",
            DeliveryStatus::Assigned => "assigned",
            DeliveryStatus::PickedUp => "picked_up",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// Whether a courier has it: the customer's name and address are theirs to see.
    #[must_use]
    pub fn is_assigned(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Assigned | DeliveryStatus::PickedUp | DeliveryStatus::Delivered
        )
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown delivery status {text}"))
    }
}

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Offers went out to couriers.
    Offer,
    /// Every open offer expired or was declined.
    Lapse,
    /// A courier accepted, or the platform assigned one.
    Assign,
    /// The merchant handed the order to the courier.
    PickUp,
    /// The courier handed it to the customer.
    Deliver,
    /// The order was cancelled or rejected.
    Cancel,
}

impl Trigger {
    #[cfg(test)]
    pub const ALL: [Trigger; 6] = [
        Trigger::Offer,
        Trigger::Lapse,
        Trigger::Assign,
        Trigger::PickUp,
        Trigger::Deliver,
        Trigger::Cancel,
    ];
}

/// The one transition table: the status a delivery moves to when `trigger` happens in
/// `from`, or `None` when that is not allowed (the caller then changes nothing).
#[must_use]
pub fn next(from: DeliveryStatus, trigger: Trigger) -> Option<DeliveryStatus> {
    use DeliveryStatus as S;
    use Trigger as T;
    match (from, trigger) {
        (S::Searching | S::Offered, T::Offer) => Some(S::Offered),
        (S::Offered, T::Lapse) => Some(S::Searching),
        (S::Searching | S::Offered, T::Assign) => Some(S::Assigned),
        (S::Assigned, T::PickUp) => Some(S::PickedUp),
        (S::PickedUp, T::Deliver) => Some(S::Delivered),
        (S::Searching | S::Offered | S::Assigned | S::PickedUp, T::Cancel) => Some(S::Cancelled),
        _ => None,
    }
}

/// What became of an offer. Only an open one can change, and only once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferStatus {
    Open,
    Accepted,
    Declined,
    Expired,
    /// Another courier took the delivery, or the order ended.
    Withdrawn,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 5] = [
        OfferStatus::Open,
        OfferStatus::Accepted,
        OfferStatus::Declined,
        OfferStatus::Expired,
        OfferStatus::Withdrawn,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Open => "open",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Withdrawn => "withdrawn",
        }
    }
}

impl FromStr for OfferStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OfferStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown offer status {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus as S;
    use Trigger as T;

    #[test]
    fn statuses_round_trip_their_names() {
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(status));
        }
        for status in OfferStatus::ALL {
            assert_eq!(status.as_str().parse::<OfferStatus>(), Ok(status));
        }
        assert!("lost".parse::<DeliveryStatus>().is_err());
    }

    /// Every (status, trigger) pair, written out: the table above may not drift from it.
    #[test]
    fn every_pair_is_as_specified() {
        let expected = |from: S, trigger: T| -> Option<S> {
            match trigger {
                T::Offer => [S::Searching, S::Offered]
                    .contains(&from)
                    .then_some(S::Offered),
                T::Lapse => (from == S::Offered).then_some(S::Searching),
                T::Assign => [S::Searching, S::Offered]
                    .contains(&from)
                    .then_some(S::Assigned),
                T::PickUp => (from == S::Assigned).then_some(S::PickedUp),
                T::Deliver => (from == S::PickedUp).then_some(S::Delivered),
                T::Cancel => {
                    (![S::Delivered, S::Cancelled].contains(&from)).then_some(S::Cancelled)
                }
            }
        };
        let mut pairs = 0;
        for from in DeliveryStatus::ALL {
            for trigger in Trigger::ALL {
                assert_eq!(
                    next(from, trigger),
                    expected(from, trigger),
                    "{from:?} {trigger:?}"
                );
                pairs += 1;
            }
        }
        assert_eq!(pairs, 36);
    }

    #[test]
    fn the_happy_path_ends_delivered_and_the_ends_are_final() {
        let path = [
            T::Offer,
            T::Lapse,
            T::Offer,
            T::Assign,
            T::PickUp,
            T::Deliver,
        ];
        let end = path.iter().try_fold(S::Searching, |s, t| next(s, *t));
        assert_eq!(end, Some(S::Delivered));
        for end in [S::Delivered, S::Cancelled] {
            for trigger in Trigger::ALL {
                assert_eq!(next(end, trigger), None, "{end:?} {trigger:?}");
            }
        }
    }

    #[test]
    fn a_courier_sees_the_customer_only_once_assigned() {
        assert!(!S::Searching.is_assigned());
        assert!(!S::Offered.is_assigned());
        assert!(S::Assigned.is_assigned());
        assert!(!S::Cancelled.is_assigned());
    }
}
