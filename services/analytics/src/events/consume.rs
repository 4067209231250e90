//! Event -> fact -> use case.

use crate::app::Analytics;
use crate::domain::Fact;
use ordo_bus::{Envelope, Subscription};
use ordo_contracts::cart::CartStarted;
use ordo_contracts::orders::{
    OrderAccepted, OrderCancelled, OrderCompleted, OrderPickedUp, OrderPlaced, OrderReady,
    OrderRejected,
};
use ordo_contracts::payments::{PaymentCaptured, PaymentRefunded};
use ordo_db::{Db, Tx};
use std::sync::Arc;

/// One consumer for every fact, so an order's facts are counted in the order they came.
#[must_use]
pub fn subscriptions(analytics: Arc<Analytics>, db: Db) -> Vec<Subscription> {
    vec![
        Subscription::new("analytics-events", db)
            .on(&analytics, |a, tx, e: CartStarted, env| {
                let fact = Fact::CartStarted {
                    merchant_id: e.merchant_id,
                    currency: e.currency,
                };
                Box::pin(record(a, tx, env, fact))
            })
            .on(&analytics, |a, tx, e: OrderPlaced, env| {
                let fact = Fact::Placed {
                    order_id: e.order_id,
                    merchant_id: e.merchant_id,
                    currency: e.total.currency,
                    total: e.total.amount,
                    from_cart: e.from_cart,
                };
                Box::pin(record(a, tx, env, fact))
            })
            .on(&analytics, |a, tx, e: OrderAccepted, env| {
                Box::pin(record(
                    a,
                    tx,
                    env,
                    Fact::Accepted {
                        order_id: e.order_id,
                    },
                ))
            })
            .on(&analytics, |a, tx, e: OrderReady, env| {
                Box::pin(record(
                    a,
                    tx,
                    env,
                    Fact::Ready {
                        order_id: e.order_id,
                    },
                ))
            })
            .on(&analytics, |a, tx, e: OrderPickedUp, env| {
                Box::pin(record(
                    a,
                    tx,
                    env,
                    Fact::PickedUp {
                        order_id: e.order_id,
                    },
                ))
            })
            .on(&analytics, |a, tx, e: OrderCompleted, env| {
                Box::pin(record(
                    a,
                    tx,
                    env,
                    Fact::Completed {
                        order_id: e.order_id,
                    },
                ))
            })
            .on(&analytics, |a, tx, e: OrderCancelled, env| {
                let fact = Fact::Cancelled {
                    order_id: e.order_id,
                    reason: e.reason,
                };
                Box::pin(record(a, tx, env, fact))
            })
            .on(&analytics, |a, tx, e: OrderRejected, env| {
                let fact = Fact::Rejected {
                    order_id: e.order_id,
                    reason: e.reason,
                };
                Box::pin(record(a, tx, env, fact))
            })
            .on(&analytics, |a, tx, e: PaymentCaptured, env| {
                let fact = Fact::Captured {
                    order_id: e.order_id,
                    amount: e.amount.amount,
                };
                Box::pin(record(a, tx, env, fact))
            })
            .on(&analytics, |a, tx, e: PaymentRefunded, env| {
                let fact = Fact::Refunded {
                    order_id: e.order_id,
                    amount: e.amount.amount,
                };
                Box::pin(record(a, tx, env, fact))
            }),
    ]
}

async fn record(
    analytics: &Analytics,
    tx: &mut Tx,
    envelope: &Envelope,
    fact: Fact,
) -> Result<(), crate::app::AppError> {
    analytics
        .record(tx, envelope.id, &envelope.event_type, envelope.time, fact)
        .await
}
