//! The order status and its legal transitions, as one explicit table (DESIGN.md §4).

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    PendingPayment,
    /// The payment was declined; the stock stays held while the customer may try another
    /// card, until the order's retry window closes.
    PaymentFailed,
    Paid,
    Accepted,
    Ready,
    PickedUp,
    Shipped,
    Completed,
    Cancelled,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::PendingPayment,
        Status::PaymentFailed,
        Status::Paid,
        Status::Accepted,
        Status::Ready,
        Status::PickedUp,
        Status::Shipped,
        Status::Completed,
        Status::Cancelled,
        Status::Rejected,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingPayment => "pending_payment",
            Status::PaymentFailed => "payment_failed",
            Status::Paid => "paid",
            Status::Accepted => "accepted",
            Status::Ready => "ready",
            Status::PickedUp => "picked_up",
            Status::Shipped => "shipped",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::Rejected => "rejected",
        }
    }

    /// Whether nothing can happen to the order any more.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Cancelled | Status::Rejected
        )
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown order status {text}"))
    }
}

/// Who moved an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Customer,
    Merchant,
    Admin,
    /// The platform itself, reacting to an event.
    System,
}

impl Actor {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Customer => "customer",
            Actor::Merchant => "merchant",
            Actor::Admin => "admin",
            Actor::System => "system",
        }
    }
}

/// What happened to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The payment is authorised and the order's stock committed (inventory's
    /// `reservation.committed`, which only follows `payment.authorized`).
    Paid,
    /// The provider declined the payment.
    PaymentFailed,
    /// The customer chose another card for a declined order.
    PaymentRetried,
    /// Nobody paid a declined order before its retry window closed.
    PaymentWindowClosed,
    /// The payment came after the stock hold ran out, and the stock was sold meanwhile.
    StockLost,
    CustomerCancels,
    AdminCancels,
    MerchantAccepts,
    MerchantRejects,
    MerchantReady,
    CourierPicksUp,
    Shipped,
    Delivered,
    PickedUpByCustomer,
}

impl Trigger {
    #[cfg(test)]
    pub const ALL: [Trigger; 14] = [
        Trigger::Paid,
        Trigger::PaymentFailed,
        Trigger::PaymentRetried,
        Trigger::PaymentWindowClosed,
        Trigger::StockLost,
        Trigger::CustomerCancels,
        Trigger::AdminCancels,
        Trigger::MerchantAccepts,
        Trigger::MerchantRejects,
        Trigger::MerchantReady,
        Trigger::CourierPicksUp,
        Trigger::Shipped,
        Trigger::Delivered,
        Trigger::PickedUpByCustomer,
    ];
}

/// The one transition table: the status an order moves to when `trigger` happens in
/// `from`, or `None` when that is not allowed (the caller then changes nothing).
#[must_use]
pub fn next(from: Status, trigger: Trigger) -> Option<Status> {
    use Status as S;
    use Trigger as T;
    match (from, trigger) {
        (S::PendingPayment, T::Paid) => Some(S::Paid),
        (S::PendingPayment, T::PaymentFailed) => Some(S::PaymentFailed),
        (S::PaymentFailed, T::PaymentRetried) => Some(S::PendingPayment),
        (S::PendingPayment, T::StockLost) | (S::PaymentFailed, T::PaymentWindowClosed) => {
            Some(S::Cancelled)
        }
        (S::PendingPayment | S::PaymentFailed | S::Paid, T::CustomerCancels) => Some(S::Cancelled),
        (
            S::PendingPayment
            | S::PaymentFailed
            | S::Paid
            | S::Accepted
            | S::Ready
            | S::PickedUp
            | S::Shipped,
            T::AdminCancels,
        ) => Some(S::Cancelled),
        (S::Paid, T::MerchantAccepts) => Some(S::Accepted),
        (S::Paid, T::MerchantRejects) => Some(S::Rejected),
        (S::Accepted, T::MerchantReady) => Some(S::Ready),
        (S::Accepted, T::Shipped) => Some(S::Shipped),
        (S::Ready, T::CourierPicksUp) => Some(S::PickedUp),
        (S::Ready, T::PickedUpByCustomer) | (S::PickedUp | S::Shipped, T::Delivered) => {
            Some(S::Completed)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_names() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert!("lost".parse::<Status>().is_err());
    }

    /// Every (status, trigger) pair, written out as DESIGN.md §4 reads: the table above
    /// may not drift from it.
    #[test]
    fn every_pair_is_as_specified() {
        use Status as S;
        use Trigger as T;
        let expected = |from: S, trigger: T| -> Option<S> {
            let open = !from.is_final();
            match trigger {
                T::Paid => (from == S::PendingPayment).then_some(S::Paid),
                T::PaymentFailed => (from == S::PendingPayment).then_some(S::PaymentFailed),
                T::PaymentRetried => (from == S::PaymentFailed).then_some(S::PendingPayment),
                T::PaymentWindowClosed => (from == S::PaymentFailed).then_some(S::Cancelled),
                T::StockLost => (from == S::PendingPayment).then_some(S::Cancelled),
                T::CustomerCancels => [S::PendingPayment, S::PaymentFailed, S::Paid]
                    .contains(&from)
                    .then_some(S::Cancelled),
                T::AdminCancels => open.then_some(S::Cancelled),
                T::MerchantAccepts => (from == S::Paid).then_some(S::Accepted),
                T::MerchantRejects => (from == S::Paid).then_some(S::Rejected),
                T::MerchantReady => (from == S::Accepted).then_some(S::Ready),
                T::Shipped => (from == S::Accepted).then_some(S::Shipped),
                T::CourierPicksUp => (from == S::Ready).then_some(S::PickedUp),
                T::PickedUpByCustomer => (from == S::Ready).then_some(S::Completed),
                T::Delivered => [S::PickedUp, S::Shipped]
                    .contains(&from)
                    .then_some(S::Completed),
            }
        };
        let mut pairs = 0;
        for from in S::ALL {
            for trigger in T::ALL {
                assert_eq!(
                    next(from, trigger),
                    expected(from, trigger),
                    "{from:?} {trigger:?}"
                );
                pairs += 1;
            }
        }
        assert_eq!(pairs, 140);
    }

    #[test]
    fn the_happy_paths_are_legal() {
        let delivery = [
            Trigger::Paid,
            Trigger::MerchantAccepts,
            Trigger::MerchantReady,
            Trigger::CourierPicksUp,
            Trigger::Delivered,
        ];
        let shipping = [
            Trigger::Paid,
            Trigger::MerchantAccepts,
            Trigger::Shipped,
            Trigger::Delivered,
        ];
        let pickup = [
            Trigger::Paid,
            Trigger::MerchantAccepts,
            Trigger::MerchantReady,
            Trigger::PickedUpByCustomer,
        ];
        for path in [&delivery[..], &shipping[..], &pickup[..]] {
            let end = path
                .iter()
                .try_fold(Status::PendingPayment, |s, t| next(s, *t));
            assert_eq!(end, Some(Status::Completed), "{path:?}");
        }
    }

    #[test]
    fn a_declined_order_gets_a_second_chance_until_its_window_closes() {
        use Status as S;
        use Trigger as T;
        let walk = |path: &[Trigger]| path.iter().try_fold(S::PendingPayment, |s, t| next(s, *t));
        let second_card = [T::PaymentFailed, T::PaymentRetried, T::Paid];
        assert_eq!(walk(&second_card), Some(S::Paid));
        let declined_twice = [T::PaymentFailed, T::PaymentRetried, T::PaymentFailed];
        assert_eq!(walk(&declined_twice), Some(S::PaymentFailed));
        let too_late = [T::PaymentFailed, T::PaymentWindowClosed];
        assert_eq!(walk(&too_late), Some(S::Cancelled));
        // A retry is only for a declined order; the window closes only on one still declined.
        assert_eq!(next(S::PendingPayment, T::PaymentRetried), None);
        assert_eq!(next(S::Paid, T::PaymentRetried), None);
        assert_eq!(next(S::PendingPayment, T::PaymentWindowClosed), None);
        // A declined order is never paid without a retry: its stock is not committed.
        assert_eq!(next(S::PaymentFailed, T::Paid), None);
    }

    #[test]
    fn late_and_illegal_triggers_change_nothing() {
        // A payment authorised after the order was cancelled.
        assert_eq!(next(Status::Cancelled, Trigger::Paid), None);
        assert_eq!(next(Status::Paid, Trigger::Paid), None);
        // Stock is lost only before the order is paid: a paid order has its stock.
        assert_eq!(next(Status::Paid, Trigger::StockLost), None);
        assert_eq!(next(Status::Accepted, Trigger::CustomerCancels), None);
        assert_eq!(next(Status::PendingPayment, Trigger::MerchantAccepts), None);
        for status in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for trigger in [
                Trigger::AdminCancels,
                Trigger::CustomerCancels,
                Trigger::PaymentFailed,
                Trigger::PaymentRetried,
                Trigger::PaymentWindowClosed,
                Trigger::StockLost,
                Trigger::Paid,
            ] {
                assert_eq!(next(status, trigger), None, "{status:?} {trigger:?}");
            }
        }
    }
}
