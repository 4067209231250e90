//! Search's HTTP interface.

mod error;
mod search;

use crate::app::Search;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Search>> {
    OpenApiRouter::new()
        .routes(routes!(search::search))
        .routes(routes!(search::suggest))
}

/// Routes under `/api/v1`; results carry an `ETag` and may be kept by shared caches.
pub fn router(search: Arc<Search>) -> OpenApiRouter {
    routes()
        .layer(axum::middleware::from_fn(ordo_http::caching::tagged))
        .with_state(search)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
