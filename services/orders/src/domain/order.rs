use super::{Fulfilment, PricedLine, Status};
use ordo_kernel::PostalAddress;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub status: Status,
    pub fulfilment: Fulfilment,
    pub address: Option<PostalAddress>,
    pub payment_method_id: Option<Uuid>,
    pub currency: String,
    pub lines: Vec<PricedLine>,
    pub subtotal: i64,
    pub tip: i64,
    pub total: i64,
    pub notes: Option<String>,
    /// The courier carrying a delivery order, once one took it.
    pub courier_id: Option<Uuid>,
    /// The parcel a shipping order went out as, once shipped.
    pub shipment: Option<Shipment>,
    /// Where the payment stands besides the status: why it was declined, until when another
    /// card may be tried, how many authorisations were asked.
    pub payment: PaymentState,
    /// Ordered from the customer's cart, which is emptied once the order is paid.
    pub from_cart: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An order's payment as the order sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentState {
    /// Why the last authorisation was declined, in words for the customer; none once
    /// another card is tried.
    pub failure: Option<String>,
    /// Until when a declined order may be paid with another card (set at the first
    /// decline); then it is cancelled.
    pub retry_until: Option<OffsetDateTime>,
    /// Authorisations asked so far: 1 at checkout, one more for each card tried after.
    pub attempts: i64,
}

impl Default for PaymentState {
    fn default() -> Self {
        PaymentState {
            failure: None,
            retry_until: None,
            attempts: 1,
        }
    }
}

/// Why a payment was declined, for the customer, from the provider's stable code.
#[must_use]
pub fn payment_failure(code: &str) -> &'static str {
    match code {
        "card_declined" => "Your card was declined. Choose another card to place this order.",
        "insufficient_funds" => {
            "Your card has insufficient funds. Choose another card to place this order."
        }
        "payment_method_invalid" => {
            "This card can no longer be used. Choose another card to place this order."
        }
        _ => "The payment could not be completed. Choose another card to place this order.",
    }
}

/// A parcel handed to a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

/// One transition of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: Uuid,
    pub order_id: Uuid,
    pub from: Option<Status>,
    pub to: Status,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub cause: String,
    pub at: OffsetDateTime,
    /// The trace the transition happened in (32 hex digits), when there was one.
    pub trace_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declined_payment_is_told_in_words_never_as_a_code() {
        for code in [
            "card_declined",
            "insufficient_funds",
            "payment_method_invalid",
            "do_not_honor",
        ] {
            let words = payment_failure(code);
            assert!(!words.contains(code), "{code}");
            assert!(
                words.ends_with("Choose another card to place this order."),
                "{code}"
            );
        }
        assert_eq!(
            payment_failure("card_declined"),
            "Your card was declined. Choose another card to place this order."
        );
    }
}
