//! Identity's HTTP interface: handlers translate HTTP to use cases and back.

mod addresses;
mod auth;
mod error;
pub(crate) mod internal;
mod me;
mod users;

use crate::app::Identity;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Identity>> {
    OpenApiRouter::new()
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::password_reset))
        .routes(routes!(auth::password_reset_confirm))
        .routes(routes!(me::get_me, me::patch_me))
        .routes(routes!(addresses::list, addresses::create))
        .routes(routes!(addresses::update, addresses::delete))
        .routes(routes!(users::get_user))
        .routes(routes!(users::list_users))
        .routes(routes!(users::patch_user))
}

/// Routes under `/api/v1`.
pub fn router(identity: Arc<Identity>) -> OpenApiRouter {
    routes().with_state(identity)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes()).with_root(well_known_routes())
}

fn well_known_routes() -> OpenApiRouter<Arc<Identity>> {
    OpenApiRouter::new().routes(routes!(auth::jwks))
}

/// Routes at the root: the JWKS.
pub fn well_known_router(identity: Arc<Identity>) -> OpenApiRouter {
    well_known_routes().with_state(identity)
}
