//! Event -> use case.

use crate::app::Notifications;
use crate::domain::Step;
use ordo_bus::{Outbox, Subscription};
use ordo_contracts::delivery::{
    DeliveryAssigned, DeliveryCompleted, DeliveryOffered, DeliveryUnassigned, ShipmentDelivered,
    ShipmentShipped,
};
use ordo_contracts::notifications::EmailRequested;
use ordo_contracts::orders::{
    OrderAccepted, OrderCancelled, OrderPickedUp, OrderPlaced, OrderReady, OrderRejected,
};
use ordo_contracts::payments::{PaymentFailed, PaymentRefunded, PaymentVoided};
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
                Box::pin(async move { n.order_placed(tx, &placed, event.id).await })
            })
            .on(n, |n, tx, failed: PaymentFailed, event| {
                Box::pin(async move { n.payment_failed(tx, &failed, event.id).await })
            })
            .on(n, |n, tx, cancelled: OrderCancelled, event| {
                Box::pin(async move { n.order_cancelled(tx, &cancelled, event.id).await })
            })
            .on(n, |n, tx, rejected: OrderRejected, event| {
                Box::pin(async move { n.order_rejected(tx, &rejected, event.id).await })
            })
            .on(n, |n, tx, refunded: PaymentRefunded, event| {
                Box::pin(async move { n.refunded(tx, &refunded, event.id).await })
            })
            .on(n, |n, tx, voided: PaymentVoided, event| {
                Box::pin(async move { n.released(tx, &voided, event.id).await })
            })
            .on(n, |n, tx, accepted: OrderAccepted, event| {
                let (order, step) = (accepted.order_id, Step::Accepted);
                Box::pin(n.tell(tx, order, step, |p| vec![p.customer_id], event.id))
            })
            .on(n, |n, tx, offered: DeliveryOffered, event| {
                Box::pin(async move { n.delivery_offered(tx, &offered, event.id).await })
            })
            .on(n, |n, tx, assigned: DeliveryAssigned, event| {
                Box::pin(async move { n.delivery_assigned(tx, &assigned, event.id).await })
            })
            .on(n, |n, tx, ready: OrderReady, event| {
                Box::pin(async move {
                    let order = ready.order_id;
                    n.tell(tx, order, Step::Ready, |p| vec![p.customer_id], event.id)
                        .await?;
                    let courier = |p: &crate::store::Parties| p.courier_id.into_iter().collect();
                    n.tell(tx, order, Step::ReadyForPickup, courier, event.id)
                        .await
                })
            })
            .on(n, |n, tx, picked: OrderPickedUp, event| {
                let (order, step) = (picked.order_id, Step::OnItsWay);
                Box::pin(n.tell(tx, order, step, |p| vec![p.customer_id], event.id))
            })
            .on(n, |n, tx, done: DeliveryCompleted, event| {
                Box::pin(async move {
                    let order = done.order_id;
                    n.tell(
                        tx,
                        order,
                        Step::Delivered,
                        |p| vec![p.customer_id],
                        event.id,
                    )
                    .await?;
                    let staff = |p: &crate::store::Parties| p.staff.clone();
                    n.tell(tx, order, Step::DeliveredToCustomer, staff, event.id)
                        .await
                })
            })
            .on(n, |n, tx, shipped: ShipmentShipped, event| {
                let (order, step) = (shipped.order_id, Step::ParcelShipped);
                Box::pin(n.tell(tx, order, step, |p| vec![p.customer_id], event.id))
            })
            .on(n, |n, tx, parcel: ShipmentDelivered, event| {
                Box::pin(async move {
                    let order = parcel.order_id;
                    n.tell(
                        tx,
                        order,
                        Step::ParcelDelivered,
                        |p| vec![p.customer_id],
                        event.id,
                    )
                    .await?;
                    let staff = |p: &crate::store::Parties| p.staff.clone();
                    n.tell(tx, order, Step::ParcelDeliveredToCustomer, staff, event.id)
                        .await
                })
            })
            .on(n, |n, tx, unassigned: DeliveryUnassigned, event| {
                Box::pin(async move { n.delivery_unassigned(tx, &unassigned, event.id).await })
            })
            .publishing_to(outbox)
            .notifying(notifications.filings()),
        // Apart, so that a mail server that is down delays emails, not inboxes.
        Subscription::new("notifications-email", db).on(
            n,
            |n, tx, requested: EmailRequested, _| {
                Box::pin(async move { n.email(tx, &requested).await })
            },
        ),
    ]
}
