//! Event -> use case: payments and stock decide whether a pending order goes on.

use crate::app::{AppError, Move, Orders};
use crate::domain::{Actor, Trigger};
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, EventMeta, Handler, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_contracts::inventory::{ReservationCommitted, ReservationLost};
use ordo_contracts::payments::PaymentFailed;
use ordo_db::{Db, Tx};
use std::sync::Arc;

/// Moves pending orders on what payments and inventory say. An order is paid when
/// inventory has committed its stock, which inventory does only once the payment is
/// authorised: so a paid order never lacks its stock.
pub struct PaymentOutcomes(pub Arc<Orders>);

impl Handler for PaymentOutcomes {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let meta = EventMeta::caused_by(event);
            let (order_id, trigger, cause) = match event.event_type.as_str() {
                ReservationCommitted::TYPE => (
                    event.decode::<ReservationCommitted>()?.order_id,
                    Trigger::Paid,
                    "payment authorized".to_owned(),
                ),
                ReservationLost::TYPE => (
                    event.decode::<ReservationLost>()?.order_id,
                    Trigger::StockLost,
                    "out of stock: the items sold out while the payment was pending".to_owned(),
                ),
                PaymentFailed::TYPE => {
                    let failed: PaymentFailed = event.decode()?;
                    (
                        failed.order_id,
                        Trigger::PaymentFailed,
                        format!("payment failed: {}", failed.reason),
                    )
                }
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            };
            let change = Move {
                trigger,
                actor: Actor::System,
                actor_id: None,
                cause: &cause,
            };
            match self.0.apply(tx, order_id, &change, &meta).await {
                Ok(_) => Ok(()),
                Err(AppError::Unexpected(error)) => Err(HandlerError::retry(format!("{error:#}"))),
                Err(other) => Err(HandlerError::reject(other)),
            }
        })
    }
}

/// The orders service's consumers.
#[must_use]
pub fn subscriptions(orders: Arc<Orders>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new(
            "orders-payments",
            db,
            &[
                ReservationCommitted::TYPE,
                ReservationLost::TYPE,
                PaymentFailed::TYPE,
            ],
            PaymentOutcomes(orders),
        )
        .publishing_to(outbox),
    ]
}
