//! Event -> use case.

use crate::app::Cart;
use ordo_bus::Subscription;
use ordo_contracts::orders::OrderPlaced;
use ordo_db::Db;
use std::sync::Arc;

/// The cart's consumers: a cart ordered whole is emptied.
#[must_use]
pub fn subscriptions(cart: Arc<Cart>, db: Db) -> Vec<Subscription> {
    vec![
        Subscription::new("cart-ordered", db).on(&cart, |cart, tx, placed: OrderPlaced, _| {
            Box::pin(async move {
                if placed.from_cart {
                    cart.ordered(tx, placed.customer_id).await?;
                }
                Ok::<(), sqlx::Error>(())
            })
        }),
    ]
}
