//! Event -> use case.

use crate::app::{AppError, Payments};
use ordo_bus::{EventMeta, Failure, Outbox, Subscription};
use ordo_contracts::orders::{OrderCancelled, OrderCompleted, OrderPlaced, OrderRejected};
use ordo_db::Db;
use std::sync::Arc;

impl Failure for AppError {
    fn is_transient(&self) -> bool {
        matches!(self, AppError::Provider(_) | AppError::Unexpected(_))
    }
}

/// The payments service's consumers. It follows each order: authorise when placed, void
/// when it ends before capture, capture when it completes — in one consumer, so that an
/// order's events are handled in their order and a cancellation never overtakes the
/// authorisation it must void.
#[must_use]
pub fn subscriptions(payments: Arc<Payments>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new("payments-orders", db)
            .on(&payments, |payments, tx, placed: OrderPlaced, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    payments.authorise(tx, &placed, &meta).await
                })
            })
            .on(
                &payments,
                |payments, tx, cancelled: OrderCancelled, event| {
                    Box::pin(async move {
                        let meta = EventMeta::caused_by(event);
                        payments.void(tx, cancelled.order_id, &meta).await
                    })
                },
            )
            .on(&payments, |payments, tx, rejected: OrderRejected, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    payments.void(tx, rejected.order_id, &meta).await
                })
            })
            .on(
                &payments,
                |payments, tx, completed: OrderCompleted, event| {
                    Box::pin(async move {
                        let meta = EventMeta::caused_by(event);
                        payments.capture(tx, completed.order_id, &meta).await
                    })
                },
            )
            .publishing_to(outbox),
    ]
}
