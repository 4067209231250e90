//! What is asked of the provider for an order, and in which order: an order's
//! authorisation comes before its capture or void, whatever the order they were recorded
//! in. No I/O.

use ordo_kernel::Money;
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestAction {
    Authorize,
    Capture,
    Void,
}

impl RequestAction {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::Authorize => "authorize",
            RequestAction::Capture => "capture",
            RequestAction::Void => "void",
        }
    }
}

impl FromStr for RequestAction {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "authorize" => Ok(RequestAction::Authorize),
            "capture" => Ok(RequestAction::Capture),
            "void" => Ok(RequestAction::Void),
            other => Err(format!("unknown provider request action {other:?}")),
        }
    }
}

/// The card and amount an authorisation is asked for, and which of the order's attempts it
/// is (1 at checkout, one more for each card tried after a decline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub customer_id: Uuid,
    pub payment_method_id: Option<Uuid>,
    pub amount: Money,
    pub attempt: i64,
}

/// The provider's idempotency key of the order's `attempt`: asking it again holds the money
/// once, and each card tried has a key of its own (the first keeps the key it always had).
#[must_use]
pub fn authorisation_key(order_id: Uuid, attempt: i64) -> String {
    if attempt <= 1 {
        format!("pay:{order_id}")
    } else {
        format!("pay:{order_id}:{attempt}")
    }
}

/// One request to the provider about an order, waiting to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRequest {
    pub order_id: Uuid,
    pub action: RequestAction,
    /// Set for `Authorize` only.
    pub charge: Option<Charge>,
    pub traceparent: Option<String>,
    pub correlationid: Option<String>,
    pub attempts: i64,
    pub not_before: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

/// How long a request the provider could not answer waits before it is asked again:
/// doubling from a second, at most a minute.
#[must_use]
pub fn retry_after(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 6)).unwrap_or(6);
    Duration::from_secs(2_u64.pow(doublings)).min(Duration::from_secs(60))
}

/// The order in which due requests are made: by order, each order's authorisation first.
pub fn in_order(requests: &mut [ProviderRequest]) {
    requests.sort_by_key(|r| (r.order_id, r.action, r.created_at));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(order: u128, action: RequestAction, at: i64) -> ProviderRequest {
        ProviderRequest {
            order_id: Uuid::from_u128(order),
            action,
            charge: None,
            traceparent: None,
            correlationid: None,
            attempts: 0,
            not_before: OffsetDateTime::from_unix_timestamp(at).unwrap(),
            created_at: OffsetDateTime::from_unix_timestamp(at).unwrap(),
        }
    }

    #[test]
    fn an_orders_authorisation_comes_first() {
        let mut requests = vec![
            request(2, RequestAction::Void, 1),
            request(1, RequestAction::Void, 1),
            request(1, RequestAction::Authorize, 2),
        ];
        in_order(&mut requests);
        let order: Vec<(u128, RequestAction)> = requests
            .iter()
            .map(|r| (r.order_id.as_u128(), r.action))
            .collect();
        assert_eq!(
            order,
            [
                (1, RequestAction::Authorize),
                (1, RequestAction::Void),
                (2, RequestAction::Void)
            ]
        );
    }

    #[test]
    fn each_attempt_has_a_key_of_its_own() {
        let order = Uuid::from_u128(7);
        let keys: Vec<String> = (1..=3).map(|n| authorisation_key(order, n)).collect();
        assert_eq!(
            keys,
            [
                format!("pay:{order}"),
                format!("pay:{order}:2"),
                format!("pay:{order}:3")
            ]
        );
    }

    #[test]
    fn retries_double_up_to_a_minute() {
        let waits: Vec<u64> = (0..9).map(|n| retry_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn actions_read_back_as_written() {
        for action in [
            RequestAction::Authorize,
            RequestAction::Capture,
            RequestAction::Void,
        ] {
            assert_eq!(action.as_str().parse::<RequestAction>(), Ok(action));
        }
        assert!("refund".parse::<RequestAction>().is_err());
    }
}
