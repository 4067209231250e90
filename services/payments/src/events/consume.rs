//! Event -> use case.

use crate::app::{AppError, Payments};
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, EventMeta, Handler, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_contracts::orders::{OrderCancelled, OrderCompleted, OrderPlaced, OrderRejected};
use ordo_db::{Db, Tx};
use std::sync::Arc;

fn outcome(result: Result<(), AppError>) -> Result<(), HandlerError> {
    match result {
        Ok(()) => Ok(()),
        Err(AppError::Provider(error)) => Err(HandlerError::retry(error)),
        Err(AppError::Unexpected(error)) => Err(HandlerError::retry(format!("{error:#}"))),
        Err(other) => Err(HandlerError::reject(other)),
    }
}

/// Follows each order: authorise when placed, void when it ends before capture, capture
/// when it completes. One consumer for all of them, so that an order's events are handled
/// in their order — a cancellation never overtakes the authorisation it must void.
pub struct OrderPayments(pub Arc<Payments>);

impl Handler for OrderPayments {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let meta = EventMeta::caused_by(event);
            let result = match event.event_type.as_str() {
                OrderPlaced::TYPE => self.0.authorise(tx, &event.decode()?, &meta).await,
                OrderCancelled::TYPE => {
                    self.0
                        .void(tx, event.decode::<OrderCancelled>()?.order_id, &meta)
                        .await
                }
                OrderRejected::TYPE => {
                    self.0
                        .void(tx, event.decode::<OrderRejected>()?.order_id, &meta)
                        .await
                }
                OrderCompleted::TYPE => {
                    self.0
                        .capture(tx, event.decode::<OrderCompleted>()?.order_id, &meta)
                        .await
                }
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            };
            outcome(result)
        })
    }
}

/// The payments service's consumers.
#[must_use]
pub fn subscriptions(payments: Arc<Payments>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new(
            "payments-orders",
            db,
            &[
                OrderPlaced::TYPE,
                OrderCancelled::TYPE,
                OrderRejected::TYPE,
                OrderCompleted::TYPE,
            ],
            OrderPayments(payments),
        )
        .publishing_to(outbox),
    ]
}
