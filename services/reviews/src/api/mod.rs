//! The reviews' HTTP interface.

mod error;
mod reviews;

use crate::app::Reviews;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(reviews: Arc<Reviews>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(reviews::create))
        .routes(routes!(reviews::of_merchant))
        .routes(routes!(reviews::of_product))
        .routes(routes!(reviews::queue))
        .routes(routes!(reviews::approve))
        .routes(routes!(reviews::reject))
        .routes(routes!(reviews::answer))
        .with_state(reviews)
}
