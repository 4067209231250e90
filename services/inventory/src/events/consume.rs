//! Event -> use case.

use crate::app::Inventory;
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, Handler, HandlerError, Subscription};
use ordo_contracts::Event;
use ordo_contracts::orders::{OrderCancelled, OrderRejected};
use ordo_contracts::payments::{PaymentAuthorized, PaymentFailed};
use ordo_db::{Db, Tx};
use std::sync::Arc;

/// Commits or releases reservations as orders are paid or end.
pub struct Reservations(pub Arc<Inventory>);

impl Handler for Reservations {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            match event.event_type.as_str() {
                PaymentAuthorized::TYPE => {
                    let paid: PaymentAuthorized = event.decode()?;
                    self.0.commit(tx, paid.order_id).await?;
                }
                PaymentFailed::TYPE => {
                    let failed: PaymentFailed = event.decode()?;
                    self.0.release(tx, failed.order_id).await?;
                }
                OrderCancelled::TYPE => {
                    let cancelled: OrderCancelled = event.decode()?;
                    self.0.release(tx, cancelled.order_id).await?;
                }
                OrderRejected::TYPE => {
                    let rejected: OrderRejected = event.decode()?;
                    self.0.release(tx, rejected.order_id).await?;
                }
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            }
            Ok(())
        })
    }
}

/// Inventory's consumers.
#[must_use]
pub fn subscriptions(inventory: Arc<Inventory>, db: Db) -> Vec<Subscription> {
    vec![Subscription::new(
        "inventory-reservations",
        db,
        &[
            PaymentAuthorized::TYPE,
            PaymentFailed::TYPE,
            OrderCancelled::TYPE,
            OrderRejected::TYPE,
        ],
        Reservations(inventory),
    )]
}
