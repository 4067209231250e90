//! The reports' HTTP interface.

mod error;
mod reports;

use crate::app::Analytics;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(analytics: Arc<Analytics>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(reports::summary))
        .routes(routes!(reports::merchant))
        .with_state(analytics)
}
