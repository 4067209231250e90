//! What each person concerned is told about an order, and how they choose to be told.
//! No I/O.

pub mod preferences;
pub mod stream;

pub use preferences::{Channels, Preferences, Topic};

/// One message in a user's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: uuid::Uuid,
    pub user_id: uuid::Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<uuid::Uuid>,
    pub read_at: Option<time::OffsetDateTime>,
    pub created_at: time::OffsetDateTime,
}

use ordo_kernel::Money;

/// One message for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// A stable code clients may branch on.
    pub kind: &'static str,
    /// What the person chooses channels for.
    pub topic: Topic,
    pub title: String,
    pub body: String,
}

fn amount(money: &Money) -> String {
    format!(
        "{}.{:02} {}",
        money.amount / 100,
        money.amount % 100,
        money.currency
    )
}

fn short(order_id: &uuid::Uuid) -> String {
    order_id.simple().to_string()[24..].to_owned()
}

#[must_use]
pub fn order_placed_customer(order_id: &uuid::Uuid, total: &Money) -> Message {
    Message {
        kind: "order_placed",
        topic: Topic::OrderUpdates,
        title: format!("Order {} placed", short(order_id)),
        body: format!(
            "We received your order of {}. You will hear from us as soon as it is paid.",
            amount(total)
        ),
    }
}

#[must_use]
pub fn order_placed_merchant(order_id: &uuid::Uuid, total: &Money, items: i64) -> Message {
    Message {
        kind: "new_order",
        topic: Topic::OrderUpdates,
        title: format!("New order {}", short(order_id)),
        body: format!(
            "{items} item(s), {} in total, waiting for payment.",
            amount(total)
        ),
    }
}

/// A declined payment: the order waits for another card until `retry_until`. `reason` is
/// the order's own words for the customer.
#[must_use]
pub fn payment_failed(
    order_id: &uuid::Uuid,
    reason: &str,
    retry_until: time::OffsetDateTime,
) -> Message {
    Message {
        kind: "payment_failed",
        topic: Topic::Payments,
        title: format!("Payment for order {} failed", short(order_id)),
        body: format!(
            "{reason} Your items are kept until {:02}:{:02} UTC; nothing was charged.",
            retry_until.hour(),
            retry_until.minute()
        ),
    }
}

#[must_use]
pub fn order_cancelled(order_id: &uuid::Uuid, reason: &str) -> Message {
    Message {
        kind: "order_cancelled",
        topic: Topic::OrderUpdates,
        title: format!("Order {} cancelled", short(order_id)),
        body: format!("The order was cancelled ({reason})."),
    }
}

#[must_use]
pub fn order_rejected(order_id: &uuid::Uuid, reason: &str) -> Message {
    Message {
        kind: "order_rejected",
        topic: Topic::OrderUpdates,
        title: format!("Order {} rejected", short(order_id)),
        body: format!("The merchant could not take the order ({reason}). Nothing was charged."),
    }
}

#[must_use]
pub fn payment_released(order_id: &uuid::Uuid) -> Message {
    Message {
        kind: "payment_released",
        topic: Topic::Payments,
        title: format!("Payment for order {} released", short(order_id)),
        body:
            "The amount held on your card for this order has been released; you were not charged."
                .to_owned(),
    }
}

#[must_use]
pub fn refund_issued(order_id: &uuid::Uuid, refunded: &Money, full: bool) -> Message {
    Message {
        kind: "refund_issued",
        topic: Topic::Payments,
        title: format!("Refund for order {}", short(order_id)),
        body: format!(
            "{} {} refunded to your card.",
            amount(refunded),
            if full { "has been fully" } else { "has been" }
        ),
    }
}

/// Who of an order's people a step is told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    Customer,
    /// The merchant's staff.
    Staff,
    /// The courier carrying it, once one took it.
    Courier,
    /// Every administrator.
    Operators,
}

/// A step of an order on its way, as one of its parties is told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// To the customer: the merchant accepted.
    Accepted,
    /// To each courier asked: a delivery near them waits for an answer.
    Offered,
    /// To the customer: a courier took the delivery.
    CourierAssigned,
    /// To the merchant's staff: a courier took the delivery.
    CourierComing,
    /// To the customer: the order is ready.
    Ready,
    /// To the courier: the order is ready at the merchant.
    ReadyForPickup,
    /// To the customer: the courier has it.
    OnItsWay,
    /// To the customer: it arrived.
    Delivered,
    /// To the merchant's staff: it arrived.
    DeliveredToCustomer,
    /// To operators and the merchant's staff: nobody took the delivery in time.
    Unassigned,
    /// To the customer: the parcel is on its way with its carrier.
    ParcelShipped,
    /// To the customer: the parcel arrived.
    ParcelDelivered,
    /// To the merchant's staff: the parcel arrived.
    ParcelDeliveredToCustomer,
}

#[must_use]
pub fn step(step: Step, order_id: &uuid::Uuid) -> Message {
    let order = short(order_id);
    let (kind, title, body) = match step {
        Step::Accepted => (
            "order_accepted",
            format!("Order {order} accepted"),
            "The merchant accepted your order and is preparing it.",
        ),
        Step::Offered => (
            "delivery_offered",
            format!("Delivery {order} near you"),
            "A delivery near you is waiting for an answer: accept it before the offer runs out.",
        ),
        Step::CourierAssigned => (
            "courier_assigned",
            format!("A courier is on order {order}"),
            "A courier took your delivery and will bring it once it is ready.",
        ),
        Step::CourierComing => (
            "courier_assigned",
            format!("Courier coming for order {order}"),
            "A courier took the delivery and is on the way to you.",
        ),
        Step::Ready => (
            "order_ready",
            format!("Order {order} is ready"),
            "The merchant has your order ready.",
        ),
        Step::ReadyForPickup => (
            "order_ready",
            format!("Order {order} is ready for pickup"),
            "The order is ready at the merchant: pick it up.",
        ),
        Step::OnItsWay => (
            "order_picked_up",
            format!("Order {order} is on its way"),
            "The courier picked up your order and is on the way to you.",
        ),
        Step::Delivered => (
            "order_delivered",
            format!("Order {order} delivered"),
            "Your order was delivered. Enjoy!",
        ),
        Step::DeliveredToCustomer => (
            "order_delivered",
            format!("Order {order} delivered"),
            "The courier handed the order to the customer.",
        ),
        Step::Unassigned => (
            "delivery_unassigned",
            format!("No courier for order {order}"),
            "Nobody took the delivery in the time allowed; someone must step in.",
        ),
        Step::ParcelShipped => (
            "parcel_shipped",
            format!("Order {order} shipped"),
            "Your parcel is on its way with the carrier; follow it with its tracking number.",
        ),
        Step::ParcelDelivered => (
            "parcel_delivered",
            format!("Order {order} delivered"),
            "The carrier delivered your parcel.",
        ),
        Step::ParcelDeliveredToCustomer => (
            "parcel_delivered",
            format!("Order {order} delivered"),
            "The carrier delivered the parcel to the customer.",
        ),
    };
    let topic = if step == Step::Offered {
        Topic::DeliveryOffers
    } else {
        Topic::OrderUpdates
    };
    Message {
        kind,
        topic,
        title,
        body: body.to_owned(),
    }
}

/// The most a text message says: three segments of a concatenated SMS.
const SMS_MAX_CHARS: usize = 459;

/// A message as a text message: its title and body, cut to what three SMS segments hold.
#[must_use]
pub fn text_message(message: &Message) -> String {
    let text = format!("Ordo: {}. {}", message.title, message.body);
    if text.chars().count() <= SMS_MAX_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(SMS_MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The email carrying a link to reset a password, valid `minutes`: (subject, body).
#[must_use]
pub fn password_reset_email(name: &str, link: &str, minutes: i64) -> (String, String) {
    let body = format!(
        "Hello {name},\n\n\
         someone, hopefully you, asked to reset the password of your Ordo account. Open this \
         link within {minutes} minutes to choose a new one:\n\n\
         {link}\n\n\
         The link works once. Setting a new password signs you out everywhere.\n\n\
         If you did not ask for it, ignore this email: your password stays as it is.\n"
    );
    ("Reset your Ordo password".to_owned(), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_happened_in_plain_words() {
        let id = uuid::Uuid::now_v7();
        let total = Money {
            amount: 1950,
            currency: "EUR".into(),
        };
        assert!(
            order_placed_customer(&id, &total)
                .body
                .contains("19.50 EUR")
        );
        let until = time::macros::datetime!(2026-12-06 14:05 UTC);
        let declined = payment_failed(
            &id,
            "Your card was declined. Choose another card to place this order.",
            until,
        );
        assert!(
            declined.body.contains("Choose another card"),
            "{}",
            declined.body
        );
        assert!(
            declined.body.contains("until 14:05 UTC"),
            "{}",
            declined.body
        );
        assert_eq!(order_placed_merchant(&id, &total, 3).kind, "new_order");
        assert!(step(Step::OnItsWay, &id).title.contains(&short(&id)));
        assert_eq!(step(Step::CourierComing, &id).kind, "courier_assigned");
    }

    #[test]
    fn every_message_belongs_to_a_topic() {
        let id = uuid::Uuid::now_v7();
        let total = Money {
            amount: 1950,
            currency: "EUR".into(),
        };
        assert_eq!(step(Step::Offered, &id).topic, Topic::DeliveryOffers);
        assert_eq!(step(Step::OnItsWay, &id).topic, Topic::OrderUpdates);
        assert_eq!(refund_issued(&id, &total, true).topic, Topic::Payments);
        assert_eq!(payment_released(&id).topic, Topic::Payments);
        assert_eq!(order_cancelled(&id, "asked").topic, Topic::OrderUpdates);
    }

    #[test]
    fn text_messages_fit_three_segments() {
        let id = uuid::Uuid::now_v7();
        let short = text_message(&order_rejected(&id, "closed"));
        assert!(short.starts_with("Ordo: Order "), "{short}");
        assert!(short.ends_with("Nothing was charged."), "{short}");
        let long = text_message(&order_rejected(&id, &"x".repeat(600)));
        assert_eq!(long.chars().count(), SMS_MAX_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn the_reset_email_carries_the_link_and_its_life() {
        let (subject, body) =
            password_reset_email("Ada", "http://shop.example/#/reset?token=ordo_pr_x", 30);
        assert_eq!(subject, "Reset your Ordo password");
        assert!(body.starts_with("Hello Ada,"), "{body}");
        assert!(
            body.contains("\nhttp://shop.example/#/reset?token=ordo_pr_x\n"),
            "{body}"
        );
        assert!(body.contains("within 30 minutes"), "{body}");
    }
}
