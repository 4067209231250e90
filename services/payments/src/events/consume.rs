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

pub struct Authorise(pub Arc<Payments>);

impl Handler for Authorise {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let placed: OrderPlaced = event.decode()?;
            outcome(
                self.0
                    .authorise(tx, &placed, &EventMeta::caused_by(event))
                    .await,
            )
        })
    }
}

pub struct Void(pub Arc<Payments>);

impl Handler for Void {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let order_id = match event.event_type.as_str() {
                OrderCancelled::TYPE => event.decode::<OrderCancelled>()?.order_id,
                OrderRejected::TYPE => event.decode::<OrderRejected>()?.order_id,
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            };
            outcome(
                self.0
                    .void(tx, order_id, &EventMeta::caused_by(event))
                    .await,
            )
        })
    }
}

pub struct CaptureCompleted(pub Arc<Payments>);

impl Handler for CaptureCompleted {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let completed: OrderCompleted = event.decode()?;
            outcome(
                self.0
                    .capture(tx, completed.order_id, &EventMeta::caused_by(event))
                    .await,
            )
        })
    }
}

/// The payments service's consumers.
#[must_use]
pub fn subscriptions(payments: Arc<Payments>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new(
            "payments-authorise",
            db.clone(),
            &[OrderPlaced::TYPE],
            Authorise(payments.clone()),
        )
        .publishing_to(outbox),
        Subscription::new(
            "payments-capture",
            db.clone(),
            &[OrderCompleted::TYPE],
            CaptureCompleted(payments.clone()),
        )
        .publishing_to(outbox),
        Subscription::new(
            "payments-void",
            db,
            &[OrderCancelled::TYPE, OrderRejected::TYPE],
            Void(payments),
        )
        .publishing_to(outbox),
    ]
}
