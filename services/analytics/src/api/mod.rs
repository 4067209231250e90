//! The reports' HTTP interface.

mod error;
mod reports;

use crate::app::Analytics;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Analytics>> {
    OpenApiRouter::new()
        .routes(routes!(reports::summary))
        .routes(routes!(reports::merchant))
}

/// Routes under `/api/v1`.
pub fn router(analytics: Arc<Analytics>) -> OpenApiRouter {
    routes().with_state(analytics)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
