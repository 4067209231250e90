//! Event -> use case.

use crate::app::Payments;
use crate::domain::{Charge, RequestAction};
use ordo_bus::{EventMeta, Outbox, Subscription};
use ordo_contracts::orders::{
    OrderCancelled, OrderCompleted, OrderPaymentRetried, OrderPlaced, OrderRejected,
};
use ordo_db::Db;
use std::sync::Arc;

/// The payments service's consumers. It follows each order: authorise when placed (and
/// again when its customer tries another card after a decline), void when it ends before
/// capture, capture when it completes — in one consumer, so that an
/// order's events are handled in their order (and an end handled first all the same
/// leaves nothing authorised). Each records a request to the provider;
/// `Payments::make_requests` makes it once the consumer has committed (`notifying`).
#[must_use]
pub fn subscriptions(payments: Arc<Payments>, db: Db, outbox: &Outbox) -> Vec<Subscription> {
    vec![
        Subscription::new("payments-orders", db)
            .on(&payments, |payments, tx, placed: OrderPlaced, event| {
                Box::pin(async move {
                    let charge = Charge {
                        customer_id: placed.customer_id,
                        payment_method_id: placed.payment_method_id,
                        amount: placed.total,
                        attempt: 1,
                    };
                    let (order, meta) = (placed.order_id, EventMeta::caused_by(event));
                    payments.authorisation_due(tx, order, charge, &meta).await
                })
            })
            .on(
                &payments,
                |payments, tx, retried: OrderPaymentRetried, event| {
                    Box::pin(async move {
                        let charge = Charge {
                            customer_id: retried.customer_id,
                            payment_method_id: Some(retried.payment_method_id),
                            amount: retried.total,
                            attempt: retried.attempt,
                        };
                        let (order, meta) = (retried.order_id, EventMeta::caused_by(event));
                        payments.authorisation_due(tx, order, charge, &meta).await
                    })
                },
            )
            .on(&payments, |payments, tx, ended: OrderCancelled, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    payments
                        .order_ended(tx, ended.order_id, "cancelled", &meta)
                        .await
                })
            })
            .on(&payments, |payments, tx, ended: OrderRejected, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    payments
                        .order_ended(tx, ended.order_id, "rejected", &meta)
                        .await
                })
            })
            .on(&payments, |payments, tx, done: OrderCompleted, event| {
                Box::pin(async move {
                    let meta = EventMeta::caused_by(event);
                    let action = RequestAction::Capture;
                    payments.ask(tx, done.order_id, action, None, &meta).await
                })
            })
            .publishing_to(outbox)
            .notifying(payments.requests_recorded()),
    ]
}
