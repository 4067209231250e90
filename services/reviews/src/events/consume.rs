//! Event -> use case.

use crate::app::Reviews;
use crate::domain::Purchase;
use ordo_bus::Subscription;
use ordo_contracts::orders::{OrderCompleted, OrderPlaced};
use ordo_db::Db;
use std::sync::Arc;

/// The reviews' consumers: every order placed is a purchase that may be reviewed once it
/// is completed.
#[must_use]
pub fn subscriptions(reviews: Arc<Reviews>, db: Db) -> Vec<Subscription> {
    vec![
        Subscription::new("reviews-orders", db)
            .on(&reviews, |reviews, tx, placed: OrderPlaced, _| {
                Box::pin(async move {
                    let purchase = Purchase {
                        order_id: placed.order_id,
                        customer_id: placed.customer_id,
                        merchant_id: placed.merchant_id,
                        product_ids: placed.lines.iter().map(|l| l.product_id).collect(),
                        completed: false,
                    };
                    reviews.purchased(tx, &purchase).await
                })
            })
            .on(&reviews, |reviews, tx, done: OrderCompleted, _| {
                Box::pin(async move { reviews.completed(tx, done.order_id).await })
            }),
    ]
}
