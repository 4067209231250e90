//! The reviews' HTTP interface.

mod error;
mod reviews;

use crate::app::Reviews;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Reviews>> {
    OpenApiRouter::new()
        .routes(routes!(reviews::create))
        .routes(routes!(reviews::of_merchant))
        .routes(routes!(reviews::of_product))
        .routes(routes!(reviews::queue))
        .routes(routes!(reviews::approve))
        .routes(routes!(reviews::reject))
        .routes(routes!(reviews::answer))
}

/// Routes under `/api/v1`.
pub fn router(reviews: Arc<Reviews>) -> OpenApiRouter {
    routes().with_state(reviews)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
