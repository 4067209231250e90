//! Event -> use case.

use crate::app::Inventory;
use ordo_bus::{EventMeta, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_contracts::orders::{
    CheckoutAbandoned, OrderCancelled, OrderPaymentFailed, OrderRejected,
};
use ordo_contracts::payments::PaymentAuthorized;
use ordo_db::Db;
use std::sync::Arc;

/// Inventory's consumers: reservations are committed as orders are paid, held while a
/// declined order waits for another card, and released as orders end or are never made.
#[must_use]
pub fn subscriptions(inventory: Arc<Inventory>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    let reservations = Subscription::new("inventory-reservations", db).on(
        &inventory,
        |inventory, tx, paid: PaymentAuthorized, event| {
            Box::pin(async move {
                let meta = EventMeta::caused_by(event);
                inventory.commit(tx, paid.order_id, &meta).await
            })
        },
    );
    let reservations = reservations.on(
        &inventory,
        |inventory, tx, declined: OrderPaymentFailed, _| {
            Box::pin(async move {
                let (order_id, until) = (declined.order_id, declined.retry_until);
                inventory.hold_until(tx, order_id, until).await
            })
        },
    );
    let reservations = releasing::<OrderCancelled>(reservations, &inventory);
    let reservations = releasing::<OrderRejected>(reservations, &inventory);
    let reservations = releasing::<CheckoutAbandoned>(reservations, &inventory);
    // Each event moves one order's stock rows, in product order as a checkout takes them;
    // a batch of orders would take them in the orders' order and deadlock with another.
    vec![
        reservations
            .each_event_in_its_own_transaction()
            .publishing_to(outbox),
    ]
}

/// Releases the stock of the order `E` ends (or gives up before it was made).
fn releasing<E: Event + 'static>(
    subscription: Subscription,
    inventory: &Arc<Inventory>,
) -> Subscription {
    subscription.on(inventory, |inventory, tx, ended: E, event| {
        Box::pin(async move {
            let meta = EventMeta::caused_by(event);
            match ended.order_id() {
                Some(order_id) => inventory.release(tx, order_id, &meta).await,
                None => Ok(()),
            }
        })
    })
}
