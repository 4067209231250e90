//! Event -> use case.

use crate::app::{AppError, Notifications};
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, Handler, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_contracts::notifications::EmailRequested;
use ordo_contracts::orders::{OrderCancelled, OrderPlaced, OrderRejected};
use ordo_contracts::payments::{PaymentFailed, PaymentRefunded, PaymentVoided};
use ordo_db::{Db, Tx};
use std::sync::Arc;

pub struct OrderNews(pub Arc<Notifications>);

impl Handler for OrderNews {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let result = match event.event_type.as_str() {
                OrderPlaced::TYPE => self.0.order_placed(tx, &event.decode()?, event.id).await,
                PaymentFailed::TYPE => self.0.payment_failed(tx, &event.decode()?, event.id).await,
                OrderCancelled::TYPE => {
                    self.0.order_cancelled(tx, &event.decode()?, event.id).await
                }
                OrderRejected::TYPE => self.0.order_rejected(tx, &event.decode()?, event.id).await,
                PaymentRefunded::TYPE => self.0.refunded(tx, &event.decode()?, event.id).await,
                PaymentVoided::TYPE => self.0.released(tx, &event.decode()?, event.id).await,
                EmailRequested::TYPE => self.0.email(tx, &event.decode()?).await,
                other => {
                    return Err(HandlerError::reject(format!(
                        "unexpected event type {other}"
                    )));
                }
            };
            match result {
                Ok(()) => Ok(()),
                // Another service's event may overtake the order's own: wait for it.
                Err(error @ (AppError::UnknownOrder(_) | AppError::EmailFailed(_))) => {
                    Err(HandlerError::retry(error))
                }
                Err(AppError::Unexpected(error)) => Err(HandlerError::retry(format!("{error:#}"))),
                Err(other) => Err(HandlerError::reject(other)),
            }
        })
    }
}

/// The notifications service's consumers.
#[must_use]
pub fn subscriptions(
    notifications: Arc<Notifications>,
    db: Db,
    outbox: &Outbox,
) -> Vec<Subscription> {
    vec![
        Subscription::new(
            "notifications-orders",
            db.clone(),
            &[
                OrderPlaced::TYPE,
                PaymentFailed::TYPE,
                OrderCancelled::TYPE,
                OrderRejected::TYPE,
                PaymentRefunded::TYPE,
                PaymentVoided::TYPE,
            ],
            OrderNews(notifications.clone()),
        )
        .publishing_to(outbox)
        .notifying(notifications.filings()),
        // Apart, so that a mail server that is down delays emails, not inboxes.
        Subscription::new(
            "notifications-email",
            db,
            &[EmailRequested::TYPE],
            OrderNews(notifications),
        ),
    ]
}
