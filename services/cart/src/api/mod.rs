//! The cart's HTTP interface.

mod cart;
mod error;
pub(crate) mod internal;

use crate::app::Cart;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(cart: Arc<Cart>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(cart::get, cart::clear))
        .routes(routes!(cart::add))
        .routes(routes!(cart::set, cart::remove))
        .with_state(cart)
}
