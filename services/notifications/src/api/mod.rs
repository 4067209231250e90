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

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Notifications>> {
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
}

/// Routes under `/api/v1`.
pub fn router(notifications: Arc<Notifications>, streams: Arc<Streams>) -> OpenApiRouter {
    routes().layer(Extension(streams)).with_state(notifications)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
