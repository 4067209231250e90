//! The payments service's HTTP interface.

mod error;
mod methods;

use crate::app::Payments;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`.
pub fn router(payments: Arc<Payments>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(methods::list, methods::add))
        .routes(routes!(methods::remove))
        .with_state(payments)
}
