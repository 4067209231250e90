//! Search's HTTP interface.

mod error;
mod search;

use crate::app::Search;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(search: Arc<Search>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(search::search))
        .routes(routes!(search::suggest))
        .with_state(search)
}
