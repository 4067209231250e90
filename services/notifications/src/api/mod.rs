//! The notifications service's HTTP interface.

mod error;
mod inbox;

use crate::app::Notifications;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(notifications: Arc<Notifications>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::read))
        .routes(routes!(inbox::stream))
        .with_state(notifications)
}
