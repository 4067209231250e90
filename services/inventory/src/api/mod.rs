//! Inventory's HTTP interface.

mod error;
pub(crate) mod internal;
mod stock;

use crate::app::Inventory;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Inventory>> {
    OpenApiRouter::new().routes(routes!(stock::get, stock::put))
}

/// Routes under `/api/v1`.
pub fn router(inventory: Arc<Inventory>) -> OpenApiRouter {
    routes().with_state(inventory)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
