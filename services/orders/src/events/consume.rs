//! Event -> use case: payments decide whether a pending order goes on.

use crate::app::{AppError, Move, Orders};
use crate::domain::{Actor, Trigger};
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, EventMeta, Handler, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_contracts::payments::{PaymentAuthorized, PaymentFailed};
use ordo_db::{Db, Tx};
use std::sync::Arc;

pub struct PaymentOutcomes(pub Arc<Orders>);

impl Handler for PaymentOutcomes {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let meta = EventMeta::caused_by(event);
            let result = match event.event_type.as_str() {
                PaymentAuthorized::TYPE => {
                    let paid: PaymentAuthorized = event.decode()?;
                    let change = Move {
                        trigger: Trigger::PaymentAuthorized,
                        actor: Actor::System,
                        actor_id: None,
                        cause: "payment authorized",
                    };
                    self.0.apply(tx, paid.order_id, &change, &meta).await
                }
                PaymentFailed::TYPE => {
                    let failed: PaymentFailed = event.decode()?;
                    let cause = format!("payment failed: {}", failed.reason);
                    let change = Move {
                        trigger: Trigger::PaymentFailed,
                        actor: Actor::System,
                        actor_id: None,
                        cause: &cause,
                    };
                    self.0.apply(tx, failed.order_id, &change, &meta).await
                }
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            };
            match result {
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
            &[PaymentAuthorized::TYPE, PaymentFailed::TYPE],
            PaymentOutcomes(orders),
        )
        .publishing_to(outbox),
    ]
}
