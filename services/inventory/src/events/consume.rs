//! Event -> use case.

use crate::app::{AppError, Inventory};
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, EventMeta, Handler, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_contracts::orders::{CheckoutAbandoned, OrderCancelled, OrderRejected};
use ordo_contracts::payments::{PaymentAuthorized, PaymentFailed};
use ordo_db::{Db, Tx};
use std::sync::Arc;

/// Commits or releases reservations as orders are paid, end, or are never made.
pub struct Reservations(pub Arc<Inventory>);

impl Handler for Reservations {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let outcome = match event.event_type.as_str() {
                PaymentAuthorized::TYPE => {
                    let paid: PaymentAuthorized = event.decode()?;
                    let meta = EventMeta::caused_by(event);
                    self.0.commit(tx, paid.order_id, &meta).await
                }
                PaymentFailed::TYPE => {
                    let order_id = event.decode::<PaymentFailed>()?.order_id;
                    self.0.release(tx, order_id).await
                }
                OrderCancelled::TYPE => {
                    let order_id = event.decode::<OrderCancelled>()?.order_id;
                    self.0.release(tx, order_id).await
                }
                OrderRejected::TYPE => {
                    let order_id = event.decode::<OrderRejected>()?.order_id;
                    self.0.release(tx, order_id).await
                }
                CheckoutAbandoned::TYPE => {
                    let order_id = event.decode::<CheckoutAbandoned>()?.order_id;
                    self.0.release(tx, order_id).await
                }
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            };
            match outcome {
                Ok(()) => Ok(()),
                Err(AppError::Unexpected(error)) => Err(HandlerError::retry(format!("{error:#}"))),
                Err(other) => Err(HandlerError::reject(other)),
            }
        })
    }
}

/// Inventory's consumers.
#[must_use]
pub fn subscriptions(inventory: Arc<Inventory>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new(
            "inventory-reservations",
            db,
            &[
                PaymentAuthorized::TYPE,
                PaymentFailed::TYPE,
                OrderCancelled::TYPE,
                OrderRejected::TYPE,
                CheckoutAbandoned::TYPE,
            ],
            Reservations(inventory),
        )
        .publishing_to(outbox),
    ]
}
