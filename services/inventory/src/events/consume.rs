//! Event -> use case.

use crate::app::Inventory;
use ordo_bus::{EventMeta, Outbox, Subscription};
use ordo_contracts::orders::{CheckoutAbandoned, OrderCancelled, OrderRejected};
use ordo_contracts::payments::{PaymentAuthorized, PaymentFailed};
use ordo_db::Db;
use std::sync::Arc;

/// Inventory's consumers: reservations are committed as orders are paid, and released as
/// they end or are never made.
#[must_use]
pub fn subscriptions(inventory: Arc<Inventory>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new("inventory-reservations", db)
            .on(
                &inventory,
                |inventory, tx, paid: PaymentAuthorized, event| {
                    Box::pin(async move {
                        let meta = EventMeta::caused_by(event);
                        inventory.commit(tx, paid.order_id, &meta).await
                    })
                },
            )
            .on(&inventory, |inventory, tx, failed: PaymentFailed, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    inventory.release(tx, failed.order_id, &meta).await
                })
            })
            .on(
                &inventory,
                |inventory, tx, cancelled: OrderCancelled, event| {
                    Box::pin(async move {
                        let meta = EventMeta::caused_by(event);
                        inventory.release(tx, cancelled.order_id, &meta).await
                    })
                },
            )
            .on(
                &inventory,
                |inventory, tx, rejected: OrderRejected, event| {
                    Box::pin(async move {
                        let meta = EventMeta::caused_by(event);
                        inventory.release(tx, rejected.order_id, &meta).await
                    })
                },
            )
            .on(
                &inventory,
                |inventory, tx, abandoned: CheckoutAbandoned, event| {
                    Box::pin(async move {
                        let meta = EventMeta::caused_by(event);
                        inventory.release(tx, abandoned.order_id, &meta).await
                    })
                },
            )
            .publishing_to(outbox),
    ]
}
