//! The cart's HTTP interface.

mod cart;
mod error;
pub(crate) mod internal;

use crate::app::Cart;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Cart>> {
    OpenApiRouter::new()
        .routes(routes!(cart::get, cart::clear))
        .routes(routes!(cart::add))
        .routes(routes!(cart::set, cart::remove))
}

/// Routes under `/api/v1`.
pub fn router(cart: Arc<Cart>) -> OpenApiRouter {
    routes().with_state(cart)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
