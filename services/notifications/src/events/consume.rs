//! Event -> use case.

use crate::app::{Cause, Notifications};
use crate::domain::{Step, To};
use ordo_bus::{Outbox, Subscription};
use ordo_contracts::delivery::{
    DeliveryAssigned, DeliveryCompleted, DeliveryOffered, DeliveryUnassigned, ShipmentDelivered,
    ShipmentShipped,
};
use ordo_contracts::identity::PasswordResetRequested;
use ordo_contracts::notifications::{EmailRequested, SmsRequested};
use ordo_contracts::orders::{
    OrderAccepted, OrderCancelled, OrderPaymentFailed, OrderPickedUp, OrderPlaced, OrderReady,
    OrderRejected,
};
use ordo_contracts::payments::{PaymentRefunded, PaymentVoided};
use ordo_db::Db;
use std::sync::Arc;

/// The notifications service's consumers.
#[must_use]
pub fn subscriptions(
    notifications: Arc<Notifications>,
    db: Db,
    outbox: &Outbox,
) -> Vec<Subscription> {
    let n = &notifications;
    vec![
        Subscription::new("notifications-orders", db.clone())
            .on(n, |n, tx, placed: OrderPlaced, event| {
                Box::pin(async move { n.order_placed(tx, &placed, Cause::of(event)).await })
            })
            .on(n, |n, tx, failed: OrderPaymentFailed, event| {
                Box::pin(async move { n.payment_failed(tx, &failed, Cause::of(event)).await })
            })
            .on(n, |n, tx, cancelled: OrderCancelled, event| {
                Box::pin(async move { n.order_cancelled(tx, &cancelled, Cause::of(event)).await })
            })
            .on(n, |n, tx, rejected: OrderRejected, event| {
                Box::pin(async move { n.order_rejected(tx, &rejected, Cause::of(event)).await })
            })
            .on(n, |n, tx, refunded: PaymentRefunded, event| {
                Box::pin(async move { n.refunded(tx, &refunded, Cause::of(event)).await })
            })
            .on(n, |n, tx, voided: PaymentVoided, event| {
                Box::pin(async move { n.released(tx, &voided, Cause::of(event)).await })
            })
            .on(n, |n, tx, accepted: OrderAccepted, event| {
                let steps: &[_] = &[(Step::Accepted, To::Customer)];
                Box::pin(n.tell(tx, accepted.order_id, Cause::of(event), steps))
            })
            .on(n, |n, tx, offered: DeliveryOffered, event| {
                Box::pin(async move { n.delivery_offered(tx, &offered, Cause::of(event)).await })
            })
            .on(n, |n, tx, assigned: DeliveryAssigned, event| {
                Box::pin(async move { n.delivery_assigned(tx, &assigned, Cause::of(event)).await })
            })
            .on(n, |n, tx, ready: OrderReady, event| {
                let steps: &[_] = &[
                    (Step::Ready, To::Customer),
                    (Step::ReadyForPickup, To::Courier),
                ];
                Box::pin(n.tell(tx, ready.order_id, Cause::of(event), steps))
            })
            .on(n, |n, tx, picked: OrderPickedUp, event| {
                let steps: &[_] = &[(Step::OnItsWay, To::Customer)];
                Box::pin(n.tell(tx, picked.order_id, Cause::of(event), steps))
            })
            .on(n, |n, tx, done: DeliveryCompleted, event| {
                let steps: &[_] = &[
                    (Step::Delivered, To::Customer),
                    (Step::DeliveredToCustomer, To::Staff),
                ];
                Box::pin(n.tell(tx, done.order_id, Cause::of(event), steps))
            })
            .on(n, |n, tx, shipped: ShipmentShipped, event| {
                let steps: &[_] = &[(Step::ParcelShipped, To::Customer)];
                Box::pin(n.tell(tx, shipped.order_id, Cause::of(event), steps))
            })
            .on(n, |n, tx, parcel: ShipmentDelivered, event| {
                let steps: &[_] = &[
                    (Step::ParcelDelivered, To::Customer),
                    (Step::ParcelDeliveredToCustomer, To::Staff),
                ];
                Box::pin(n.tell(tx, parcel.order_id, Cause::of(event), steps))
            })
            .on(n, |n, tx, unassigned: DeliveryUnassigned, event| {
                let steps: &[_] = &[
                    (Step::Unassigned, To::Operators),
                    (Step::Unassigned, To::Staff),
                ];
                Box::pin(n.tell(tx, unassigned.order_id, Cause::of(event), steps))
            })
            .publishing_to(outbox)
            .after_commit(notifications.filings()),
        // Apart, so that a mail server that is down delays emails, not inboxes.
        Subscription::new("notifications-email", db.clone()).on(
            n,
            |n, tx, requested: EmailRequested, _| {
                Box::pin(async move { n.email(tx, &requested).await })
            },
        ),
        // Apart, so that a text-message gateway that is down delays texts alone.
        Subscription::new("notifications-sms", db.clone()).on(
            n,
            |n, tx, requested: SmsRequested, _| {
                Box::pin(async move { n.text(tx, &requested).await })
            },
        ),
        Subscription::new("notifications-account", db).on(
            n,
            |n, _, requested: PasswordResetRequested, _| {
                Box::pin(async move { n.password_reset(&requested).await })
            },
        ),
    ]
}
