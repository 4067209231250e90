//! The notifications service's HTTP interface.

mod error;
mod inbox;
pub(crate) mod internal;
mod preferences;
mod texts;

use crate::app::Notifications;
use axum::Extension;
use ordo_http::Streams;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`; the live stream counts against its user's `streams`.
pub fn router(notifications: Arc<Notifications>, streams: Arc<Streams>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::read))
        .routes(routes!(inbox::read_all))
        .routes(routes!(
            preferences::get_preferences,
            preferences::put_preferences
        ))
        .routes(routes!(texts::list))
        .routes(routes!(inbox::stream))
        .layer(Extension(streams))
        .with_state(notifications)
}
