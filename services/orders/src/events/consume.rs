//! Event -> use case: payments and stock decide whether a pending order goes on (a declined
//! one waits for another card); delivery says who carries it and when it arrived.

use crate::app::{AppError, Move, Orders};
use crate::domain::{Actor, Trigger};
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, EventMeta, Outbox, Subscription};
use ordo_contracts::delivery::{DeliveryAssigned, DeliveryCompleted, ShipmentDelivered};
use ordo_contracts::inventory::{ReservationCommitted, ReservationLost};
use ordo_contracts::payments::PaymentFailed;
use ordo_db::{Db, Tx};
use std::sync::Arc;
use uuid::Uuid;

/// Moves the order on `trigger`, by the platform itself.
fn system_move<'a>(
    orders: &'a Orders,
    tx: &'a mut Tx,
    order_id: Uuid,
    trigger: Trigger,
    cause: String,
    event: &'a Envelope,
) -> BoxFuture<'a, Result<(), AppError>> {
    Box::pin(async move {
        let change = Move {
            trigger,
            actor: Actor::System,
            actor_id: None,
            cause: &cause,
        };
        let meta = EventMeta::caused_by(event);
        if orders.apply(tx, order_id, &change, &meta).await?.is_some() {
            orders.moving(event.id, order_id);
        }
        Ok(())
    })
}

/// The orders service's consumers. An order is paid when inventory has committed its
/// stock, which inventory does only once the payment is authorised: so a paid order never
/// lacks its stock. The streams following an order are woken once its move has committed.
#[must_use]
pub fn subscriptions(orders: Arc<Orders>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new("orders-payments", db.clone())
            .on(&orders, |orders, tx, paid: ReservationCommitted, event| {
                let cause = "payment authorized".to_owned();
                system_move(orders, tx, paid.order_id, Trigger::Paid, cause, event)
            })
            .on(&orders, |orders, tx, lost: ReservationLost, event| {
                let cause =
                    "out of stock: the items sold out while the payment was pending".to_owned();
                system_move(orders, tx, lost.order_id, Trigger::StockLost, cause, event)
            })
            .on(&orders, |orders, tx, failed: PaymentFailed, event| {
                Box::pin(async move {
                    let (order_id, meta) = (failed.order_id, EventMeta::caused_by(event));
                    if orders
                        .payment_declined(tx, order_id, &failed.reason, &meta)
                        .await?
                    {
                        orders.moving(event.id, order_id);
                    }
                    Ok::<(), AppError>(())
                })
            })
            .publishing_to(outbox)
            .after_commit(orders.moves_committed()),
        Subscription::new("orders-delivery", db)
            .on(&orders, |orders, tx, assigned: DeliveryAssigned, _| {
                Box::pin(orders.courier_assigned(tx, assigned.order_id, assigned.courier_id))
            })
            .on(&orders, |orders, tx, done: DeliveryCompleted, event| {
                let cause = "delivered by the courier".to_owned();
                system_move(orders, tx, done.order_id, Trigger::Delivered, cause, event)
            })
            .on(&orders, |orders, tx, parcel: ShipmentDelivered, event| {
                let cause = "delivered by the carrier".to_owned();
                system_move(
                    orders,
                    tx,
                    parcel.order_id,
                    Trigger::Delivered,
                    cause,
                    event,
                )
            })
            .publishing_to(outbox)
            .after_commit(orders.moves_committed()),
    ]
}
