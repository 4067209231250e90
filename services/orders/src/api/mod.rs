//! The orders service's HTTP interface.

mod error;
mod orders;

use crate::app::Orders;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(orders: Arc<Orders>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(orders::place, orders::list))
        .routes(routes!(orders::get))
        .routes(routes!(orders::status))
        .routes(routes!(orders::history))
        .routes(routes!(orders::cancel))
        .with_state(orders)
}
