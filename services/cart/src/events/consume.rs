//! Event -> use case.

use crate::app::Cart;
use ordo_bus::Subscription;
use ordo_contracts::orders::OrderPaid;
use ordo_db::Db;
use std::sync::Arc;
use uuid::Uuid;

/// The cart's consumers: what an order from the cart took leaves it once the order is paid
/// (not when it is placed: a declined order may still be paid with another card, or end).
#[must_use]
pub fn subscriptions(cart: Arc<Cart>, db: Db) -> Vec<Subscription> {
    vec![
        Subscription::new("cart-ordered", db).on(&cart, |cart, tx, paid: OrderPaid, _| {
            Box::pin(async move {
                if paid.from_cart {
                    let lines: Vec<(Uuid, i64)> = paid
                        .lines
                        .iter()
                        .map(|l| (l.product_id, l.quantity))
                        .collect();
                    cart.ordered(tx, paid.customer_id, paid.order_id, &lines)
                        .await?;
                }
                Ok::<(), crate::AppError>(())
            })
        }),
    ]
}
