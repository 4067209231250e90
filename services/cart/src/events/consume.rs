//! Event -> use case.

use crate::app::Cart;
use futures_util::future::BoxFuture;
use ordo_bus::{Envelope, Handler, HandlerError, Subscription};
use ordo_contracts::Event;
use ordo_contracts::orders::OrderPlaced;
use ordo_db::{Db, Tx};
use std::sync::Arc;

pub struct Ordered(pub Arc<Cart>);

impl Handler for Ordered {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let placed: OrderPlaced = event.decode()?;
            if placed.from_cart {
                self.0.ordered(tx, placed.customer_id).await?;
            }
            Ok(())
        })
    }
}

/// The cart's consumers.
#[must_use]
pub fn subscriptions(cart: Arc<Cart>, db: Db) -> Vec<Subscription> {
    vec![Subscription::new(
        "cart-ordered",
        db,
        &[OrderPlaced::TYPE],
        Ordered(cart),
    )]
}
