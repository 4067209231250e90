//! A payment and its status: one explicit table of what may happen to it, as the orders
//! service has for orders. No I/O.

use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

/// A saved card: the provider's token and what a customer recognises it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub token: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub created_at: OffsetDateTime,
}

/// A payment of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub payment_method_id: Option<Uuid>,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub status: PaymentStatus,
    pub amount: i64,
    pub currency: String,
    pub failure_reason: Option<String>,
    pub captured_amount: i64,
    pub refunded_amount: i64,
    /// Which of the order's authorisations this is the answer to (1 at checkout).
    pub attempt: i64,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// The money is held on the card.
    Authorized,
    /// The provider refused to hold it.
    Failed,
    /// The hold was released without charging (the order ended, or the hold expired).
    Voided,
    /// The held amount was charged; refunds may follow.
    Captured,
    /// The provider refused to charge the hold.
    CaptureFailed,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 5] = [
        PaymentStatus::Authorized,
        PaymentStatus::Failed,
        PaymentStatus::Voided,
        PaymentStatus::Captured,
        PaymentStatus::CaptureFailed,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Voided => "voided",
            PaymentStatus::Captured => "captured",
            PaymentStatus::CaptureFailed => "capture_failed",
        }
    }
}

impl FromStr for PaymentStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PaymentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown payment status {text}"))
    }
}

/// What happens to a payment after it was authorised or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The customer's next card, tried after a decline, was authorised.
    RetryApproved,
    /// The customer's next card, tried after a decline, was declined too.
    RetryDeclined,
    /// The order ended before capture: release the hold.
    Void,
    /// The provider says the hold ran out.
    ExpireAtProvider,
    /// The order completed and the provider charged the hold.
    Capture,
    /// The order completed but the provider refused to charge.
    RefuseCapture,
    /// Money goes back (by an operator, or reported by the provider).
    Refund,
}

/// The one table: the status a payment moves to when `action` happens in `from`, or `None`
/// when it may not (the caller then changes nothing). A refund leaves a captured payment
/// captured; what was refunded is counted beside it.
#[must_use]
pub fn next(from: PaymentStatus, action: Action) -> Option<PaymentStatus> {
    use Action as A;
    use PaymentStatus as S;
    match (from, action) {
        (S::Failed, A::RetryApproved) => Some(S::Authorized),
        (S::Failed, A::RetryDeclined) => Some(S::Failed),
        (S::Authorized, A::Void | A::ExpireAtProvider) => Some(S::Voided),
        (S::Authorized, A::Capture) => Some(S::Captured),
        (S::Authorized, A::RefuseCapture) => Some(S::CaptureFailed),
        (S::Captured, A::Refund) => Some(S::Captured),
        _ => None,
    }
}

/// Whether a refund is made at the provider yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    /// Reserved against the capture; the provider has not confirmed it yet.
    Pending,
    Succeeded,
}

impl RefundStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
        }
    }
}

impl FromStr for RefundStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [RefundStatus::Pending, RefundStatus::Succeeded]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown refund status {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_names() {
        for status in PaymentStatus::ALL {
            assert_eq!(status.as_str().parse::<PaymentStatus>(), Ok(status));
        }
        assert!("lost".parse::<PaymentStatus>().is_err());
    }

    #[test]
    fn every_status_and_action_is_decided() {
        use Action as A;
        use PaymentStatus as S;
        let actions = [
            A::RetryApproved,
            A::RetryDeclined,
            A::Void,
            A::ExpireAtProvider,
            A::Capture,
            A::RefuseCapture,
            A::Refund,
        ];
        // The moves that exist; every other pair changes nothing.
        let moves = [
            (S::Failed, A::RetryApproved, S::Authorized),
            (S::Failed, A::RetryDeclined, S::Failed),
            (S::Authorized, A::Void, S::Voided),
            (S::Authorized, A::ExpireAtProvider, S::Voided),
            (S::Authorized, A::Capture, S::Captured),
            (S::Authorized, A::RefuseCapture, S::CaptureFailed),
            (S::Captured, A::Refund, S::Captured),
        ];
        let expected = |from: S, action: A| {
            moves
                .iter()
                .find(|(f, a, _)| *f == from && *a == action)
                .map(|(_, _, to)| *to)
        };
        let mut allowed = 0;
        for from in PaymentStatus::ALL {
            for action in actions {
                assert_eq!(
                    next(from, action),
                    expected(from, action),
                    "{from:?} {action:?}"
                );
                allowed += usize::from(next(from, action).is_some());
            }
        }
        assert_eq!(allowed, 7, "only these seven moves exist");
        // Nothing happens to a payment that was released or failed to charge; a refused one
        // may only be tried again with another card.
        for end in [S::Voided, S::CaptureFailed] {
            assert!(actions.iter().all(|a| next(end, *a).is_none()), "{end:?}");
        }
        let retries = [A::RetryApproved, A::RetryDeclined];
        assert!(
            actions
                .iter()
                .filter(|a| !retries.contains(a))
                .all(|a| next(S::Failed, *a).is_none())
        );
        // Only a refused payment is tried again: an authorised one is never held twice.
        for held in [S::Authorized, S::Captured] {
            assert!(retries.iter().all(|a| next(held, *a).is_none()), "{held:?}");
        }
    }
}
