//! Event -> use case.

use crate::app::Delivery;
use ordo_bus::{EventMeta, Outbox, Subscription};
use ordo_contracts::orders::{
    OrderAccepted, OrderCancelled, OrderPickedUp, OrderRejected, OrderShipped,
};
use ordo_db::Db;
use std::sync::Arc;

/// Delivery's consumer of the orders it carries, in one subscription so that an order's
/// events are handled in their order. The streams following a delivery are woken once
/// what an event changed has committed.
#[must_use]
pub fn subscriptions(delivery: Arc<Delivery>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new("delivery-orders", db)
            .on(&delivery, |delivery, tx, accepted: OrderAccepted, event| {
                Box::pin(async move {
                    delivery.changing(event.id, accepted.order_id);
                    let meta = EventMeta::caused_by(event);
                    delivery.open(tx, &accepted, &meta).await
                })
            })
            .on(&delivery, |delivery, tx, shipped: OrderShipped, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    delivery.ship(tx, &shipped, &meta).await
                })
            })
            .on(&delivery, |delivery, tx, picked: OrderPickedUp, event| {
                Box::pin(async move {
                    delivery.changing(event.id, picked.order_id);
                    let meta = EventMeta::caused_by(event);
                    delivery.picked_up(tx, picked.order_id, &meta).await
                })
            })
            .on(
                &delivery,
                |delivery, tx, cancelled: OrderCancelled, event| {
                    Box::pin(async move {
                        delivery.changing(event.id, cancelled.order_id);
                        let meta = EventMeta::caused_by(event);
                        delivery.cancel(tx, cancelled.order_id, &meta).await
                    })
                },
            )
            .on(&delivery, |delivery, tx, rejected: OrderRejected, event| {
                Box::pin(async move {
                    delivery.changing(event.id, rejected.order_id);
                    let meta = EventMeta::caused_by(event);
                    delivery.cancel(tx, rejected.order_id, &meta).await
                })
            })
            .publishing_to(outbox)
            .after_commit(delivery.changes_committed()),
    ]
}
