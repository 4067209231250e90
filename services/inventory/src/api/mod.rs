//! Inventory's HTTP interface.

mod error;
pub(crate) mod internal;
mod stock;

use crate::app::Inventory;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(inventory: Arc<Inventory>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(stock::get, stock::put))
        .with_state(inventory)
}
