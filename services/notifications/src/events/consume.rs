//! Event -> use case.

use crate::app::Notifications;
use ordo_bus::{Outbox, Subscription};
use ordo_contracts::notifications::EmailRequested;
use ordo_contracts::orders::{OrderCancelled, OrderPlaced, OrderRejected};
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
